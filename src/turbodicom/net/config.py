"""Settings of the network layer, named as pynetdicom's ``_config`` names them.

``STORE_RECV_CHUNKED_DATASET``: an SCP writes each received C-STORE data set straight
to a file (in ``STORE_RECV_CHUNKED_DATASET_DIR``, default the system's temporary folder)
instead of holding it in memory; handlers find it at ``event.dataset_path``. The file is
removed after the handler returns unless the handler moved it.

``STORE_SEND_CHUNKED_DATASET`` is accepted for compatibility: ``send_c_store(path)``
always sends a file's data set from the file.
"""

STORE_RECV_CHUNKED_DATASET = False
STORE_RECV_CHUNKED_DATASET_DIR: str | None = None
STORE_SEND_CHUNKED_DATASET = True
