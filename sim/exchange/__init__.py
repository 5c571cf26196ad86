"""The simulated exchange: the actors, their messages and the scheduler that runs them."""
