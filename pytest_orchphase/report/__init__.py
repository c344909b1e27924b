"""What a team reads after a phase run: the canonical report (``model``, typed in ``shape``) and
its renderers (JSON and step summary in ``outputs``, ``markdown`` with its ``chart``,
``terminal``), the cross-phase table (``compare``) and the ``dashboard``."""
