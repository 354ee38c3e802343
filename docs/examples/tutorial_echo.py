# The tutorial's C-ECHO example, with only the import changed (pynetdicom -> turbodicom.net).
# REMOTE_IP and REMOTE_PORT are the peer's address.
import os

from turbodicom.net import AE

remote_ip = os.environ.get("REMOTE_IP", "127.0.0.1")
remote_port = int(os.environ.get("REMOTE_PORT", "11112"))

# Create a DICOM AE (Application Entity)
ae = AE()

# Add presentation context for C-ECHO
ae.add_requested_context("1.2.840.10008.1.1")

# Associate with the remote SCP
assoc = ae.associate(remote_ip, remote_port)

# Send C-ECHO request
status = assoc.send_c_echo()

# Process the C-ECHO response
if status:
    # C-ECHO response success
    print("DICOM device is reachable")
else:
    # C-ECHO response failure
    print("Failed to establish connection or device is not reachable")

# Release the association
assoc.release()
