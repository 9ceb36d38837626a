import torch

# The tests use small tensors, for which one thread is fastest and is not slowed by other
# processes competing for the cores.
torch.set_num_threads(1)
