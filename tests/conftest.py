import matplotlib

# Tests never open windows; chapters choose their own backend inside the kernel.
matplotlib.use("Agg")
