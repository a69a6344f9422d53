"""The papers the product writes, as .docx (python-docx) in the layout of Decree 30/2020/NĐ-CP.

Each paper is a data object built from the database (``*_paper``) and written by a pure function
(``*_docx``, bytes); the print views render the same objects as HTML.
"""

from processes.documents.decision import (
    DecisionPaper,
    awardee_columns,
    awardee_rows,
    certificates_columns,
    certificates_docx,
    decision_docx,
    decision_paper,
)
from processes.documents.layout import DOCX, document_language
from processes.documents.minutes import MinutesPaper, count_columns, count_rows, minutes_docx, minutes_paper
from processes.documents.proposal import (
    PROPOSED_STAGES,
    ProposalPaper,
    proposal_docx,
    proposal_paper,
    proposed_nominations,
    summary_columns,
    summary_list_docx,
    summary_rows,
)

__all__ = [
    "DOCX",
    "PROPOSED_STAGES",
    "DecisionPaper",
    "MinutesPaper",
    "ProposalPaper",
    "awardee_columns",
    "awardee_rows",
    "certificates_columns",
    "certificates_docx",
    "count_columns",
    "count_rows",
    "decision_docx",
    "decision_paper",
    "document_language",
    "minutes_docx",
    "minutes_paper",
    "proposal_docx",
    "proposal_paper",
    "proposed_nominations",
    "summary_columns",
    "summary_list_docx",
    "summary_rows",
]
