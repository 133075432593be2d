"""The scoring server: one model behind MLflow's scoring protocol (``mltrail models serve``).

Needs the ``serving`` extra (``pip install 'mltrail[serving]'``). See docs/serving.md.
"""
