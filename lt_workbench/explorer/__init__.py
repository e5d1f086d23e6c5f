"""The JupyterLab explorer (ipywidgets + plotly) over the analysis API."""

__all__: list[str] = []
