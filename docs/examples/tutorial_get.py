# The tutorial's C-GET example, with only the import changed (pynetdicom -> turbodicom.net).
# REMOTE_IP and REMOTE_PORT are the peer's address.
# As written, the query has no QueryRetrieveLevel (0008,0052): a Query/Retrieve SCP answers it
# with a failure status, and the example prints its failure branch. (Nor does it request a
# storage context with the SCP role, which a C-GET needs to receive anything.)
import os

from pydicom import Dataset
from pydicom.uid import ExplicitVRLittleEndian
from turbodicom.net import AE

remote_ip = os.environ.get("REMOTE_IP", "127.0.0.1")
remote_port = int(os.environ.get("REMOTE_PORT", "11112"))

# Create a DICOM dataset with query criteria
query_dataset = Dataset()
query_dataset.PatientName = "John Doe"

# Create a DICOM AE (Application Entity)
ae = AE()

# Add presentation context for C-GET
ae.add_requested_context("PatientRootQueryRetrieveInformationModelGet")

# Associate with the remote SCP
assoc = ae.associate(remote_ip, remote_port)

# Send C-GET request
responses = assoc.send_c_get(query_dataset, query_model="P")

# Process the responses
for status, dataset in responses:
    if status.Status == 0xFF00:
        # C-GET response success
        print("Received image for patient:", dataset.PatientName)
    else:
        # C-GET response failure
        print("Failed to retrieve image:", status)

# Release the association
assoc.release()
