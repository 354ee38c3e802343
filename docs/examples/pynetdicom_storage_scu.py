# pynetdicom's documented Storage SCU example, with only the imports changed.
# DICOM_FILE is the CT file to send, REMOTE_IP and REMOTE_PORT the peer's address.
import os

from pydicom import dcmread

from turbodicom.net import AE, debug_logger
from turbodicom.net.sop_class import CTImageStorage

debug_logger()

ae = AE()
ae.add_requested_context(CTImageStorage)

ds = dcmread(os.environ.get("DICOM_FILE", "path/to/dataset"))

assoc = ae.associate(os.environ.get("REMOTE_IP", "127.0.0.1"), int(os.environ.get("REMOTE_PORT", "11112")))
if assoc.is_established:
    # Use the C-STORE service to send the dataset
    # returns the response status as a pydicom Dataset
    status = assoc.send_c_store(ds)

    # Check the status of the storage request
    if status:
        # If the storage request succeeded this will be 0x0000
        print('C-STORE request status: 0x{0:04x}'.format(status.Status))
    else:
        print('Connection timed out, was aborted or received invalid response')

    # Release the association
    assoc.release()
else:
    print('Association rejected, aborted or never connected')
