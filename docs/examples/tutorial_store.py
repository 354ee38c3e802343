# The tutorial's C-STORE example, with only the import changed (pynetdicom -> turbodicom.net).
# DICOM_FILE is the file to send (a CT image), REMOTE_IP and REMOTE_PORT the peer's address.
import os

from pydicom import dcmread

from turbodicom.net import AE

dicom_file = os.environ.get("DICOM_FILE", "path/to/dicom.dcm")
remote_ip = os.environ.get("REMOTE_IP", "127.0.0.1")
remote_port = int(os.environ.get("REMOTE_PORT", "11112"))

# Read DICOM object from file
dataset = dcmread(dicom_file)

# Create a DICOM AE (Application Entity)
ae = AE()

# Add presentation context for C-STORE
ae.add_requested_context("1.2.840.10008.5.1.4.1.1.2")

# Associate with the remote SCP
assoc = ae.associate(remote_ip, remote_port)

# Send C-STORE request
status = assoc.send_c_store(dataset)

# Process the C-STORE response
if status:
    # C-STORE response success
    print("DICOM object stored successfully")
else:
    # C-STORE response failure
    print("Failed to store DICOM object")

# Release the association
assoc.release()
