"""Defaults of the 2014 implementation, kept so ported code behaves the same."""


class Defaults:
    WORKFLOW_TIMEOUT = 31536000  # 365 days
    DECISION_TIMEOUT = 60
    DECISION_CATEGORY = "default"
    ACTIVITY_SCHEDULED_TIMEOUT = 60
    ACTIVITY_EXECUTION_TIMEOUT = 31536000
    ACTIVITY_HEARTBEAT_TIMEOUT = 31536000
    ACTIVITY_CATEGORY = "default"
    CHILD_POLICY = "ABANDON"
