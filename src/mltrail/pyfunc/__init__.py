"""The python_function interface: ``save_model``, ``load_model`` and the :class:`PythonModel` base.

Example::

    import mltrail.pyfunc

    class Echo(mltrail.pyfunc.PythonModel):
        def predict(self, model_input: list[str], params=None) -> list[str]:
            return model_input

    mltrail.pyfunc.save_model("echo", python_model=Echo())
    model = mltrail.pyfunc.load_model("echo", allow_pickle=True)
"""

from __future__ import annotations

from mltrail.models.pyfunc import PyFuncModel, load_model, save_model
from mltrail.models.python_model import PythonModel, PythonModelContext

__all__ = ["PyFuncModel", "PythonModel", "PythonModelContext", "load_model", "save_model"]
