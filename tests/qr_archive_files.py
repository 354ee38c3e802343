"""The small archive the Query/Retrieve tests serve: copies of pydicom's test files with
patients, dates and UIDs changed, in a folder with a subfolder."""

from __future__ import annotations

from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file

CT_STUDY = "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"
CT_SERIES = "1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322"
CT_1 = "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"
CT_2 = "1.2.826.0.1.3680043.8.498.1001"
MR_STUDY = "1.3.6.1.4.1.5962.1.2.4.20040826185059.5457"
MR = "1.3.6.1.4.1.5962.1.1.4.1.1.20040826185059.5457"
PLAN_STUDY = "1.22.333.4.555555.6.7777777777777777777777777777"
PLAN = "1.2.777.777.77.7.7777.7777.20030903150023"
RLE_STUDY = "1.2.826.0.1.3680043.8.498.3000"
RLE = "1.2.826.0.1.3680043.8.498.3001"

# name: (source, path in the folder, changes)
FILES = {
    "ct1": ("CT_small.dcm", "ct1.dcm", {"PatientID": "P1", "PatientName": "Doe^John", "StudyDate": "20040115"}),
    "mr": ("MR_small.dcm", "mr.dcm", {"PatientID": "P1", "PatientName": "Doe^John", "StudyDate": "20050620"}),
    "plan": ("rtplan.dcm", "plan.dcm", {"PatientID": "P2", "PatientName": "Smith^Jane", "StudyDate": "20041231"}),
    "ct2": ("CT_small.dcm", "sub/ct2.dcm", {"PatientID": "P1", "PatientName": "Doe^John", "StudyDate": "20040115",
                                            "SOPInstanceUID": CT_2, "InstanceNumber": 2}),
    "rle": ("MR_small_RLE.dcm", "sub/rle.dcm", {"PatientID": "P3", "PatientName": "John Doe", "StudyDate": "20060101",
                                              "SOPInstanceUID": RLE, "StudyInstanceUID": RLE_STUDY,
                                              "SeriesInstanceUID": RLE_STUDY + ".1"}),
}
UIDS = {"ct1": CT_1, "mr": MR, "plan": PLAN, "ct2": CT_2, "rle": RLE}


def write_archive(root: Path) -> Path:
    """Write FILES into `root` (and its subfolder `sub`); returns `root`."""
    (root / "sub").mkdir()
    for source, name, changes in FILES.values():
        ds = pydicom.dcmread(get_testdata_file(source))
        for keyword, value in changes.items():
            setattr(ds, keyword, value)
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.save_as(root / name)
    return root


def path_of(folder: Path, name: str) -> str:
    return str(folder / FILES[name][1])
