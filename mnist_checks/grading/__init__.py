"""Grading students' forks: the starter they begin from, the rubric, and the batch grader."""
