"""Manager workspace: comparison dashboard, location and region pages, corrective actions, exports."""
