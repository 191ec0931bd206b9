import matplotlib
import pytest
import torch

# Tests never open windows; chapters choose their own backend inside the kernel.
matplotlib.use("Agg")


@pytest.fixture
def one_thread():
    """One torch thread: on a busy 2-core machine two threads mostly wait for each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
