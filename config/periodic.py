"""The periodic jobs every process that works tasks runs (infra.periodic): the
server in the embedded profile, each worker in the scaled one. Every process
looks; each job's claim in the database lets one process do each thing."""

from cms.scheduled import SCHEDULED_PUBLISHER
from reports.alert_services import ALERT_SCHEDULER
from reports.questionnaire_schedule import QUESTIONNAIRE_SCHEDULER
from workspace.digest_schedule import DIGEST_SCHEDULER

PERIODIC_JOBS = (
    DIGEST_SCHEDULER,  # the day's row per kommun lets one send
    SCHEDULED_PUBLISHER,  # each page is claimed before it is published
    QUESTIONNAIRE_SCHEDULER,  # the claim of each report lets one send
    ALERT_SCHEDULER,  # a conditional update per alert lets one send
)
