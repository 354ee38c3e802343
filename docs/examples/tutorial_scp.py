# The tutorial's SCP example. It imports `AE, debug` from pydicom, which has neither, and
# adds a *requested* context to a server; as pynetdicom would, turbodicom.net needs the
# names pynetdicom has (`debug_logger`) and a *supported* context. Those are the only
# changes. PORT is the port to listen on.
import os

from turbodicom.net import AE, debug_logger

debug_logger()

# Create an Application Entity (AE) for communication
ae = AE()

# Set AE title and other communication parameters
ae.ae_title = b"MY_AE_TITLE"
ae.port = int(os.environ.get("PORT", "11112"))
ae.add_supported_context("1.2.840.10008.1.1")  # Add DICOM Presentation Context

# Start listening for incoming associations
ae.start_server(("", ae.port), block=True)
