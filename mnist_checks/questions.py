"""The exercise's questions, Q1 to Q5, spelled one way: a question's id is its pytest marker in
lower case (``q1``), in the rubric, the records, the catalogue and the plan alike; ``label`` is
how tables and messages show it (``Q1``). The bottom layer: imports nothing of the package."""

from __future__ import annotations

#: The questions' ids, in the exercise's order: each is also the pytest marker of its tests.
QUESTIONS = ("q1", "q2", "q3", "q4", "q5")


#: What each question asks, in a few words (the feedback pages' and the class report's headings).
TITLES = {
    "q1": "the split: 60,000 train, 10,000 test",
    "q2": "the MLP",
    "q3": "the predicted digit",
    "q4": "inputs scaled into [0, 1]",
    "q5": "the CNN",
}


#: The questions as the exercise publishes them (ML-10E2, "## Questions": the text after "Q1. "),
#: verbatim, typo "Do ou" included: the notebook starter's markdown cells (``starter --notebook``).
PUBLISHED = {
    "q1": "Split the data in a training set with 60,000 samples and a test set with 10,000 samples.",
    "q2": "Train and test a MLP model, with a hidden layer of 32 nodes, using these data.",
    "q3": "How do you extract the predicted digits from this model?",
    "q4": "Convert the gray scale (0 = Black, 255 = White) to (0 = Black, 1 = White), and try again with the same "
          "MLP model.",
    "q5": "Try now with a convolutional neural network. Do ou get a real improvement with this *deep* model?",
}


def label(question: str) -> str:
    """``Q1`` for ``q1``: a question as people read it."""
    return question.upper()
