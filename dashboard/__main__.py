import sys

if sys.argv[1:2] == ["collect"]:
    # the collector builds no Arrow tables, but pandas loads pyarrow whenever it is installed (about 60 MB of the
    # collector's memory): tell pandas it is absent in this process
    sys.modules.setdefault("pyarrow", None)

from dashboard.cli import main  # noqa: E402

sys.exit(main())
