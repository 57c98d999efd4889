"""The grader's isolation: models as validated descriptions, data-only messages, the student
server's semantics seen through ``IsolatedContract``, and the sandbox's walls (bubblewrap)."""

import io
import json
import os
import socket
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from mnist_checks import exercise
from mnist_checks.compat import keras, set_seed
from mnist_checks.grading import description, sandbox, wire
from mnist_checks.grading.description import Refused, describe, rebuild, validate
from mnist_checks.grading.isolated import ForkError, IsolatedContract, open_contract

pytestmark = pytest.mark.fast


def round_trip(*models):
    """Describe models as the server does, send them through JSON, rebuild them as the checker does."""
    earlier, built, rebuilt = {}, {}, []
    for model_id, model in enumerate(models):
        spec, weights = describe(model, earlier, model_id)
        rebuilt.append(rebuild(json.loads(json.dumps(spec)), weights, built))
    return rebuilt


def layer_summary(model):
    return [(type(layer).__name__,
             {k: v for k, v in layer.get_config().items() if k in description.LAYERS[type(layer).__name__]})
            for layer in model.layers]


@pytest.mark.parametrize("builder", ["build_mlp", "build_cnn"])
def test_the_reference_models_rebuild_identical_from_their_descriptions(builder, scaled_sample):
    set_seed(0)
    model = getattr(exercise, builder)()
    (copy,) = round_trip(model)
    assert layer_summary(copy) == layer_summary(model)
    assert copy.count_params() == model.count_params()
    for ours, theirs in zip(copy.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    assert type(copy.optimizer).__name__ == "Adam" and copy.loss == "sparse_categorical_crossentropy"
    X = scaled_sample[0][:16].reshape((-1, *model.inputs[0].shape[1:]))
    np.testing.assert_allclose(copy.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)


def test_a_functional_model_with_an_explicit_input_rebuilds_like_the_sequential_one():
    inputs = keras.Input(shape=(784,))
    hidden = keras.layers.Dense(32, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(10, activation="softmax", name="digits")(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=["acc"])
    (copy,) = round_trip(model)
    assert [type(layer).__name__ for layer in copy.layers] == ["Dense", "Dense"]
    assert copy.count_params() == 25_450
    assert type(copy.loss).__name__ == "SparseCategoricalCrossentropy"


def test_a_layer_shared_between_two_builds_stays_shared_after_rebuilding():
    """The exercise's warm start: a second model on the first one's layer objects."""
    first = exercise.build_mlp()
    second = keras.Sequential([keras.Input(shape=(784,)), *first.layers])
    a, b = round_trip(first, second)
    assert all(x is y for x, y in zip(a.layers, b.layers))
    fresh_a, fresh_b = round_trip(exercise.build_mlp(), exercise.build_mlp())
    assert not any(x is y for x, y in zip(fresh_a.layers, fresh_b.layers))


class Subclassed(keras.Model):
    def call(self, x):
        return x


def branching():
    inputs = keras.Input(shape=(784,))
    left, right = keras.layers.Dense(10)(inputs), keras.layers.Dense(10)(inputs)
    return keras.Model(inputs, keras.layers.Add()([left, right]))


@pytest.mark.parametrize(("build", "named"), [
    (lambda: keras.Sequential([keras.Input(shape=(784,)), keras.layers.Lambda(lambda x: x)]), "Lambda"),
    (lambda: keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(10, activation=lambda x: 2 * x)]),
     "activation"),
    (Subclassed, "subclassed"),
    (branching, "chain"),
])
def test_models_that_carry_code_or_branch_are_refused_naming_what(build, named):
    with pytest.raises(Refused, match=named):
        round_trip(build())


def _activation_spellings():
    import tensorflow as tf

    spellings = {"a string": "relu", "keras.activations": keras.activations.relu, "tf.nn": tf.nn.relu,
                 "a function of the same values": lambda x: tf.maximum(x, 0.0)}
    if hasattr(keras, "ops"):
        spellings["keras.ops"] = keras.ops.relu
    return spellings


@pytest.mark.parametrize("spelling", sorted(_activation_spellings()))
def test_an_activation_however_spelled_is_described_by_its_name(spelling):
    """relu as a string, Keras's or TensorFlow's function, or any function of relu's values is
    described as 'relu' (and tf.nn.softmax, TensorFlow's softmax_v2, as 'softmax'): no code crosses."""
    import tensorflow as tf

    hidden = keras.layers.Dense(32, activation=_activation_spellings()[spelling])
    model = keras.Sequential([keras.Input(shape=(784,)), hidden, keras.layers.Dense(10, activation=tf.nn.softmax)])
    spec, _ = describe(model, {}, 0)
    assert [layer["config"]["activation"] for layer in spec["layers"]] == ["relu", "softmax"]
    validate(json.loads(json.dumps(spec)))


def test_an_unbuilt_model_is_described_built_on_the_contracts_input_shape():
    """A model without an Input (the exercise's own style) is built on the builder's input shape,
    as its first fit() would build it, so its initial weights cross with it."""
    model = keras.Sequential([keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10, activation="softmax")])
    spec, weights = describe(model, {}, 0, (784,))
    assert spec["input_shape"] == [784]
    assert [w.shape for w in weights] == [(784, 32), (32,), (32, 10), (10,)]
    (copy,) = [rebuild(json.loads(json.dumps(spec)), weights, {})]
    assert copy.count_params() == 25_450


@pytest.mark.parametrize("metric", ["object", "function"])
def test_losses_and_metrics_given_as_functions_or_objects_are_described_and_rebuilt(metric):
    """A loss function, a metric object or a metric function (the TensorFlow tutorials' idioms)
    is described by name or class and rebuilt with the checker's own."""
    model = keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(10, activation="softmax")])
    spelled = {"object": keras.metrics.SparseCategoricalAccuracy(),
               "function": keras.metrics.sparse_categorical_accuracy}[metric]
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.sparse_categorical_crossentropy,
                  metrics=[spelled])
    spec, weights = describe(model, {}, 0)
    assert len(spec["compile"]["metrics"]) == 1
    copy = rebuild(json.loads(json.dumps(spec)), weights, {})
    X, y = np.eye(784, dtype=np.float32)[:20], np.arange(20) % 10
    results = copy.evaluate(X, y, verbose=0, return_dict=True)
    expected = np.mean(copy.predict(X, verbose=0).argmax(axis=1) == y)
    assert [name for name, value in results.items() if name != "loss" and value == pytest.approx(expected)]


def described_mlp():
    spec, weights = describe(exercise.build_mlp(), {}, 0)
    return json.loads(json.dumps(spec)), weights


@pytest.mark.parametrize(("edit", "named"), [
    (lambda d: d["layers"][0].update({"class": "Lambda"}), "Lambda"),
    (lambda d: d["layers"][0]["config"].update(kernel_initializer={"class_name": "Custom"}), "kernel_initializer"),
    (lambda d: d["layers"][0]["config"].update(units="32; import os"), "units"),
    (lambda d: d["layers"][0]["config"].update(activation="eval"), "activation"),
    (lambda d: d["compile"]["optimizer"].update({"class": "Evil"}), "optimizer"),
    (lambda d: d["compile"].update(loss="os.system"), "loss"),
    (lambda d: d["compile"].update(metrics=[{"class": "Custom", "config": {}}]), "metric"),
    (lambda d: d["layers"].append({"same_as": [41, 0]}), "never rebuilt"),
    (lambda d: d.update(input_shape=[784, "x"]), "input shape"),
    (lambda d: d.update(layers=[d["layers"][0]] * 100), "at most"),
])
def test_crafted_descriptions_are_refused_naming_what(edit, named):
    spec, weights = described_mlp()
    edit(spec)
    with pytest.raises(Refused, match=named):
        rebuild(spec, weights, {})


def test_weights_of_the_wrong_shapes_are_refused():
    spec, weights = described_mlp()
    with pytest.raises(Refused, match="shapes"):
        rebuild(spec, [w.T for w in weights], {})


def test_a_valid_description_passes_validation():
    validate(described_mlp()[0])


def test_pickled_object_arrays_never_cross_the_wire():
    buffer = io.BytesIO()
    np.savez(buffer, a0=np.array([object()], dtype=object))
    with pytest.raises(wire.WireError, match="npz"):
        wire.decode_arrays(buffer.getvalue())
    with pytest.raises(TypeError):
        wire.pack(np.array(["text"]), {})


def test_a_compressed_archive_is_refused_before_it_inflates():
    buffer = io.BytesIO()
    np.savez_compressed(buffer, a0=np.zeros(10_000_000, dtype=np.uint8))  # 10 MB that packs to 10 KB
    assert len(buffer.getvalue()) < 100_000
    with pytest.raises(wire.WireError, match="compressed"):
        wire.decode_arrays(buffer.getvalue())


def test_a_message_keeps_its_arrays_tuples_lists_and_scalars():
    arrays = {}
    value = wire.pack((np.arange(3), [np.float32(2.5), 7, "x", None]), arrays)
    message, back = wire.read(io.BytesIO(wire.encode({"value": value}, arrays)))
    restored = wire.unpack(message["value"], back)
    assert isinstance(restored, tuple) and isinstance(restored[1], list)
    np.testing.assert_array_equal(restored[0], np.arange(3))
    assert restored[1][0] == np.float32(2.5) and restored[1][0].dtype == np.float32
    assert restored[1][1:] == [7, "x", None]


def test_a_truncated_message_reads_as_the_end_of_the_stream():
    data = wire.encode({"value": 1}, {"a0": np.zeros(100)})
    with pytest.raises(EOFError):
        wire.read(io.BytesIO(data[:-10]))


# --- the student server, seen through the proxy (a plain process: no bubblewrap needed) ---------

QUIRKY = textwrap.dedent('''
    import os, time
    import numpy as np
    from .compat import keras

    class Mistake(Exception):
        pass

    def split(*arrays, random_state=0):
        if random_state == 99:
            time.sleep(3600)
        return [a[:1] for a in arrays] + [a[1:] for a in arrays]

    def build_mlp():
        model = keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(32, activation="relu"),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def predicted_digits(probabilities):
        import tensorflow as tf
        return tf.argmax(probabilities, axis=1)

    def scale(X):
        X /= 255
        return X

    def to_images(X):
        print("to_images was called")
        raise Mistake("a mistake of the fork's own")

    def build_cnn():
        os.abort()
''')


@pytest.fixture(scope="module")
def quirky(tmp_path_factory):
    path = tmp_path_factory.mktemp("quirky") / "exercise.py"
    path.write_text(QUIRKY)
    with IsolatedContract(path, isolation=sandbox.UNISOLATED, call_seconds=20) as contract:
        yield contract


def test_a_fork_that_changes_its_argument_changes_the_callers_array(quirky):
    X = np.array([0.0, 255.0], dtype=np.float32)
    scaled = quirky.scale(X)
    np.testing.assert_array_equal(scaled, [0, 1])
    np.testing.assert_array_equal(X, [0, 1])


def test_a_read_only_argument_stays_read_only_in_the_forks_process(quirky):
    X = np.array([0.0, 255.0], dtype=np.float32)
    X.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        quirky.scale(X)
    np.testing.assert_array_equal(X, [0, 255])


def test_a_backend_tensor_comes_back_as_a_numpy_array(quirky):
    digits = quirky.predicted_digits(np.eye(10, dtype=np.float32)[[3, 1]])
    assert isinstance(digits, np.ndarray) and digits.tolist() == [3, 1]


def test_the_forks_own_exception_names_its_type_and_line(quirky):
    own = r"Mistake: a mistake of the fork's own \(exercise.py, line \d+, in to_images\)"
    with pytest.raises(ForkError, match=own):
        quirky.to_images(np.zeros((1, 784)))


def test_a_model_comes_back_rebuilt_by_the_checker(quirky):
    model = quirky.build_mlp()
    assert isinstance(model, keras.Model) and model.count_params() == 25_450


def test_a_crash_fails_that_call_and_the_next_call_gets_a_new_server(quirky):
    with pytest.raises(ForkError, match="died during build_cnn"):
        quirky.build_cnn()
    assert quirky.split(np.arange(4))[0].tolist() == [0]


def test_a_call_that_hangs_fails_at_its_limit_and_is_not_made_again(tmp_path):
    path = tmp_path / "exercise.py"
    path.write_text(QUIRKY)
    with IsolatedContract(path, isolation=sandbox.UNISOLATED, call_seconds=3) as contract:
        started = time.monotonic()
        with pytest.raises(ForkError, match="hung"):
            contract.split(np.arange(4), random_state=99)
        with pytest.raises(ForkError, match="not called again"):
            contract.split(np.arange(4), random_state=99)
        assert time.monotonic() - started < 30
        assert contract.build_mlp().count_params() == 25_450


def test_a_contract_that_does_not_import_raises_its_error_at_start(tmp_path):
    path = tmp_path / "exercise.py"
    path.write_text("def split(:\n")
    with IsolatedContract(path, isolation=sandbox.UNISOLATED) as contract:
        with pytest.raises(SyntaxError, match="line 1"):
            contract.check_loaded()


# --- the sandbox's walls (bubblewrap) ------------------------------------------------------------

PROBE = textwrap.dedent('''
    import json, os, resource, socket, subprocess, sys

    def split(*arrays, **kwargs):
        seen = {"uid": os.getuid(), "pids": sorted(p for p in os.listdir("/proc") if p.isdigit()),
                "limits": {name: resource.getrlimit(getattr(resource, name))[1]
                           for name in ("RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_FSIZE", "RLIMIT_CORE")},
                "env": sorted(os.environ), "cwd": os.getcwd()}
        for path in (CHECKOUT, HOME, "/root", "/sandbox/lib/mnist_checks/exercise.py"):
            try:
                seen[path] = "read" if os.path.isfile(path) and open(path).read() else os.listdir(path)
            except OSError as error:
                seen[path] = type(error).__name__
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=2).close()
            seen["network"] = "connected"
        except OSError as error:
            seen["network"] = type(error).__name__
        for path in ("/usr/attack", sys.prefix + "/attack", "/sandbox/lib/attack"):
            try:
                open(path, "w").close()
                seen[path] = "written"
            except OSError as error:
                seen[path] = type(error).__name__
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)  # MNIST_CHECKS_PROBE_CHILD"],
                         start_new_session=True)
        raise ValueError(json.dumps(seen))
''')


@pytest.fixture(scope="module")
def walls(tmp_path_factory):
    try:
        sandbox.probe()
    except sandbox.SandboxUnavailable as error:
        if os.environ.get("MNIST_CHECKS_REQUIRE_SANDBOX"):
            raise
        pytest.skip(f"no sandbox here: {error}")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    path = tmp_path_factory.mktemp("probe") / "exercise.py"
    checkout = Path(exercise.__file__).resolve()
    path.write_text(f"CHECKOUT = {str(checkout)!r}\nHOME = {os.path.expanduser('~')!r}\n"
                    f"PORT = {listener.getsockname()[1]}\n" + PROBE)
    os.environ["MNIST_CHECKS_TEST_SECRET"] = "s3cret"
    try:
        contract = open_contract(path, isolation="bubblewrap")
        with pytest.raises(ValueError) as raised:
            contract.split(np.arange(3))
        contract.close()
    finally:
        del os.environ["MNIST_CHECKS_TEST_SECRET"]
    try:
        listener.accept()
        connected = True
    except OSError:
        connected = False
    listener.close()
    seen = json.loads(str(raised.value).rsplit(" (exercise.py", 1)[0])
    return {"seen": seen, "checkout": str(checkout), "connected": connected}


def test_the_sandboxed_fork_runs_as_another_user_alone_in_its_pid_namespace(walls):
    seen = walls["seen"]
    assert seen["uid"] != 0 and len(seen["pids"]) <= 3 and seen["cwd"] == str(sandbox.TMP)


def test_the_sandboxed_fork_cannot_raise_its_limits(walls):
    limits = walls["seen"]["limits"]
    assert limits["RLIMIT_AS"] == 8192 * 1024**2 and limits["RLIMIT_FSIZE"] == 256 * 1024**2
    assert limits["RLIMIT_CORE"] == 0
    if os.geteuid() == 0:  # forks run as nobody, whose processes are capped
        assert limits["RLIMIT_NPROC"] == 1024


def test_the_sandboxed_fork_sees_no_checkout_home_or_instructor_variable(walls):
    seen = walls["seen"]
    assert seen[walls["checkout"]] == "FileNotFoundError"
    assert seen[os.path.expanduser("~")] in ("FileNotFoundError", "PermissionError", [".pyenv"], [])
    assert "MNIST_CHECKS_TEST_SECRET" not in seen["env"]
    assert seen["/sandbox/lib/mnist_checks/exercise.py"] == "read"  # the starter's, solution-free


def test_the_sandboxed_fork_can_write_only_its_own_tmpfs(walls):
    seen = walls["seen"]
    assert all(seen[p] != "written" for p in seen if p.endswith("/attack"))


def test_the_sandboxed_fork_reaches_no_host_loopback_server(walls):
    assert walls["seen"]["network"] == "ConnectionRefusedError" and not walls["connected"]


def test_a_process_the_fork_starts_dies_with_its_server(walls):
    alive = [p for p in Path("/proc").glob("[0-9]*/cmdline")
             if b"MNIST_CHECKS_PROBE_CHILD" in _read(p)]
    assert alive == []


def test_no_file_of_the_package_a_fork_runs_with_holds_a_solution_line(tmp_path):
    """The fork's process gets a copy of the package: the starter's contract, and none of the
    modules that quote the reference (the mutation catalogue)."""
    from mnist_checks.grading.starter import solution_lines

    path = tmp_path / "exercise.py"
    path.write_text("")
    contract = IsolatedContract(path, isolation=sandbox.UNISOLATED)
    secret = solution_lines(Path(exercise.__file__).read_text())
    try:
        files = [p for p in (contract._home / "lib").rglob("*") if p.is_file()]
        leaks = {str(p.name): sorted(line for line in secret if line in p.read_text(errors="replace"))
                 for p in files}
    finally:
        contract.close()
    assert len(secret) > 10 and len(files) > 10
    assert {name: lines for name, lines in leaks.items() if lines} == {}
    assert not contract._home.exists()


def _read(path):
    try:
        return path.read_bytes()
    except OSError:
        return b""
