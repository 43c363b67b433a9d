"""Import of customers and deals (导入) from Excel (.xlsx, .xls) and CSV/text files: read,
validate every row, then write in bulk.

The flow (pages in crm.customers.io_views, the API in crm.api.io):
1. The upload is checked (name, size, what the content really is: a workbook that unpacks
   to too much or carries something else is refused) and kept under MEDIA_ROOT/imports/
   with an ImportJob row owned by the uploader (``uploads``, ``jobs``).
2. The file is read — workbooks in a child process with memory limits, text files with
   their encoding detected and delimiter sniffed — its header row matched against each
   column's synonyms and the user's remembered choices (``reading``, ``columns``), and
   every row validated; the report lists each bad row by its line, column, value and a
   Chinese reason (``validating``, cell values by ``parsing``). Whole-file values chosen
   on the page (项目, 来源渠道, 置业顾问) fill a missing or empty column.
3. On confirmation the rows are checked again against the database and written in one
   transaction: every row, or with "仅导入有效行" only the valid ones. A file with errors
   imports nothing unless the user chose that (``writing``). Large files are checked and
   written by the job runner, with the progress on the ImportJob row (``jobs``).

Callers import from here; the modules, in the order the data goes through them:
``columns`` (the kinds of file, their columns and synonyms), ``parsing`` (one cell's
value), ``reading`` (file → Sheet), ``validating`` (Sheet → Validation), ``uploads`` (the
file and its report on disk), ``writing`` (Validation → database), ``jobs`` (the
ImportJob row's life).
"""

from crm.customers.importing.columns import (
    COLUMNS,
    CUSTOMER_COLUMNS,
    CUSTOMERS,
    DEAL_COLUMNS,
    DEALS,
    EXAMPLE_MARK,
    KINDS,
    Column,
    column_of,
    normalise_header,
    whole_file_keys,
)
from crm.customers.importing.jobs import (
    cancel_import,
    change_options,
    confirm_import,
    may_import,
    options_of,
    process_job,
    purge_stale_uploads,
    remember_choices,
    result_message,
    run_import_jobs,
    saved_choices,
    start_import,
)
from crm.customers.importing.reading import IGNORE, FileInfo, ImportFileError, Sheet, read_sheet
from crm.customers.importing.uploads import (
    check_upload_name_and_size,
    discard_upload,
    load_report,
    load_validation,
    save_report,
    store_upload,
    upload_path,
)
from crm.customers.importing.validating import (
    CustomerRow,
    DealRow,
    Options,
    Progress,
    Report,
    RowError,
    Validation,
    recheck_customers,
    validate_customers,
    validate_deals,
    validate_file,
)
from crm.customers.importing.writing import ImportBlocked, ImportResult, import_file

__all__ = [
    "COLUMNS",
    "CUSTOMERS",
    "CUSTOMER_COLUMNS",
    "DEALS",
    "DEAL_COLUMNS",
    "EXAMPLE_MARK",
    "IGNORE",
    "KINDS",
    "Column",
    "CustomerRow",
    "DealRow",
    "FileInfo",
    "ImportBlocked",
    "ImportFileError",
    "ImportResult",
    "Options",
    "Progress",
    "Report",
    "RowError",
    "Sheet",
    "Validation",
    "cancel_import",
    "change_options",
    "check_upload_name_and_size",
    "column_of",
    "confirm_import",
    "discard_upload",
    "import_file",
    "load_report",
    "load_validation",
    "may_import",
    "normalise_header",
    "options_of",
    "process_job",
    "purge_stale_uploads",
    "read_sheet",
    "recheck_customers",
    "remember_choices",
    "result_message",
    "run_import_jobs",
    "save_report",
    "saved_choices",
    "start_import",
    "store_upload",
    "upload_path",
    "validate_customers",
    "validate_deals",
    "validate_file",
    "whole_file_keys",
]
