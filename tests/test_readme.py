"""The README's library examples run as printed (with smaller budgets, so that the test is fast)."""

import pathlib
import re

README = pathlib.Path(__file__).parents[1] / "README.md"

# the examples' sizes, shrunk: the test checks that the calls are right, not the accuracy
SHRINK = {
    "n_steps=2000)": "n_steps=20)",
    "n_steps=2000,": "n_steps=20,",
    "torch.rand(10_000, 2)": "torch.rand(100, 2)",
    "iters=150": "iters=3",
    "first_iters=800, fit_iters=500": "first_iters=3, fit_iters=3",
}


def test_readme_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 3
    namespace: dict = {}
    for block in blocks:
        for old, new in SHRINK.items():
            block = block.replace(old, new)
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - the project's own README
    assert isinstance(namespace["run"], namespace["gf"].Trajectory)
