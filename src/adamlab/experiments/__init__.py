"""The paper's experiments (Section 6): data, models, one training loop, specs per figure."""
