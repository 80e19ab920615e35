"""The web console (``run_training.py serve``): sign-in, team, trainee, call, assign and scenario pages over the
history store. ``app.create_app`` builds it; ``pages`` holds what each page shows and who may see it."""
