# The tutorial's C-MOVE example, with only the import changed (pynetdicom -> turbodicom.net),
# and one more change: the tutorial calls send_c_move(..., move_destination=...), a keyword
# pynetdicom never had; pynetdicom's (and turbodicom's) is move_aet, used here.
# REMOTE_IP and REMOTE_PORT are the peer's address, MOVE_DESTINATION the AE title to move to.
# As written, the query has no QueryRetrieveLevel (0008,0052): a Query/Retrieve SCP answers it
# with a failure status, and the example prints its failure branch.
import os

from pydicom import Dataset
from pydicom.uid import ExplicitVRLittleEndian
from turbodicom.net import AE

remote_ip = os.environ.get("REMOTE_IP", "127.0.0.1")
remote_port = int(os.environ.get("REMOTE_PORT", "11112"))
move_destination = os.environ.get("MOVE_DESTINATION", "move_destination")

# Create a DICOM dataset with query criteria
query_dataset = Dataset()
query_dataset.PatientName = "John Doe"

# Create a DICOM AE (Application Entity)
ae = AE()

# Add presentation context for C-MOVE
ae.add_requested_context("PatientRootQueryRetrieveInformationModelMove")

# Associate with the remote SCP
assoc = ae.associate(remote_ip, remote_port)

# Send C-MOVE request
responses = assoc.send_c_move(
    query_dataset, query_model="P", move_aet=move_destination
)

# Process the responses
for status, dataset in responses:
    if status.Status == 0xFF00:
        # C-MOVE response success
        print("Received image for patient:", dataset.PatientName)
    else:
        # C-MOVE response failure
        print("Failed to retrieve image:", status)

# Release the association
assoc.release()
