"""Excel import of customers and deals (导入): read, validate every row, then write in bulk.

The flow (pages in crm.customers.io_views):
1. The upload is checked (size, a real .xlsx, a header row with the required columns) and
   kept as MEDIA_ROOT/imports/<token>.xlsx beside its validation report (<token>.json); no
   database row is written for it (``uploads``, ``reading``).
2. Every row is validated; the report lists each bad row by its Excel line number, its
   column and a Chinese reason (``validating``, cell values by ``parsing``).
3. On confirmation the file is read and validated again (the database may have changed
   meanwhile) and written in one transaction: every row, or with "仅导入有效行" only the
   valid ones. A file with errors imports nothing unless the user chose that (``writing``).

Callers import from here; the modules, in the order the data goes through them:
``columns`` (the kinds of file and their columns), ``parsing`` (one cell's value),
``reading`` (file → Sheet), ``validating`` (Sheet → Validation), ``uploads`` (the file and
its report between the two requests), ``writing`` (Validation → database).
"""

from crm.customers.importing.columns import (
    CUSTOMER_COLUMNS,
    CUSTOMERS,
    DEAL_COLUMNS,
    DEALS,
    EXAMPLE_MARK,
    KINDS,
    Column,
)
from crm.customers.importing.reading import ImportFileError, Sheet, read_sheet
from crm.customers.importing.uploads import (
    claim_upload,
    discard_upload,
    load_report,
    load_validation,
    purge_stale_uploads,
    save_report,
    store_upload,
    upload_path,
)
from crm.customers.importing.validating import (
    CustomerRow,
    DealRow,
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
    "CUSTOMERS",
    "CUSTOMER_COLUMNS",
    "DEALS",
    "DEAL_COLUMNS",
    "EXAMPLE_MARK",
    "KINDS",
    "Column",
    "CustomerRow",
    "DealRow",
    "ImportBlocked",
    "ImportFileError",
    "ImportResult",
    "Report",
    "RowError",
    "Sheet",
    "Validation",
    "claim_upload",
    "discard_upload",
    "import_file",
    "load_report",
    "load_validation",
    "purge_stale_uploads",
    "read_sheet",
    "recheck_customers",
    "save_report",
    "store_upload",
    "upload_path",
    "validate_customers",
    "validate_deals",
    "validate_file",
]
