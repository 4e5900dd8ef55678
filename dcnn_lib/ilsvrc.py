"""The ImageNet Large Scale Visual Recognition Challenge (ILSVRC) classification results, as data.

Two tables, each row with its source:

- :data:`WINNERS`: the winning entry of every year 2010-2017 (top-5 test error, %);
- :data:`LECTURE`: the lecture's "Summary: ILSVRC 2012-2015" slide row by row, what the slide
  says and what the sources say where the slide is wrong or ambiguous (GoogLeNet has 22 layers
  with parameters, not 19; ZFNet's own paper reaches 14.8%, the 11.7% belongs to the Clarifai
  entry; the winning results are ensembles).

:func:`winners` and :func:`lecture_table` return them as pandas DataFrames.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Winner:
    """The winning classification entry of one year."""

    year: int
    team: str
    model: str
    top5_error: float      # %, test set
    source: str
    note: str = ""


WINNERS: tuple[Winner, ...] = (
    Winner(2010, "NEC-UIUC", "SIFT/LBP features, coding, linear SVMs", 28.2,
           "ILSVRC 2010 results (image-net.org); Russakovsky et al. 2015"),
    Winner(2011, "XRCE", "Fisher vectors, linear SVMs", 25.8,
           "ILSVRC 2011 results (image-net.org); Russakovsky et al. 2015"),
    Winner(2012, "SuperVision", "AlexNet (ensemble)", 15.3,
           "Krizhevsky et al. 2012, Table 2; Russakovsky et al. 2015",
           "7 CNNs, 2 of them pre-trained on ImageNet Fall 2011 (22k classes); 16.4% with ILSVRC data only"),
    Winner(2013, "Clarifai", "ZFNet-style CNN (ensemble)", 11.7,
           "ILSVRC 2013 results (image-net.org); Simonyan and Zisserman 2015, Table 7",
           "without outside data; 11.2% with it; Zeiler and Fergus's own paper: 14.8% (6 nets)"),
    Winner(2014, "GoogLeNet", "Inception v1 (7 nets)", 6.67,
           "Szegedy et al. 2015, Table 2", "VGG was second with 7.3% (7 nets)"),
    Winner(2015, "MSRA", "ResNet (ensemble)", 3.57,
           "He et al. 2016, Table 5", "6 models of different depth, two of them 152 layers"),
    Winner(2016, "Trimps-Soushen", "ensemble of Inception, Inception-ResNet, ResNet, WRN", 2.99,
           "ILSVRC 2016 results (image-net.org)"),
    Winner(2017, "WMW", "SENet (ensemble)", 2.25, "Hu et al. 2018; ILSVRC 2017 results (image-net.org)"),
)


@dataclass(frozen=True)
class LectureRow:
    """One row of the lecture's slide and its check against the sources."""

    team: str              # as the slide writes it
    year: int | None
    place: str
    top5_error: float      # % as on the slide
    external_data: str
    verdict: str           # "as published", "corrected", "ambiguous"
    correction: str
    source: str


LECTURE: tuple[LectureRow, ...] = (
    LectureRow("SuperVision – Toronto (AlexNet, 7 layers)", 2012, "-", 16.4, "no", "ambiguous",
               "8 layers with weights (5 conv + 3 FC): '7' counts the hidden layers", "Krizhevsky et al. 2012"),
    LectureRow("SuperVision", 2012, "1st", 15.3, "ImageNet 22k", "as published", "",
               "Krizhevsky et al. 2012, Table 2"),
    LectureRow("Clarifai – NYU (7 layers)", 2013, "-", 11.7, "no", "corrected",
               "11.7% is the winning entry (Clarifai); the ZFNet paper itself reaches 14.8% (6 nets)",
               "ILSVRC 2013 results; Simonyan and Zisserman 2015, Table 7"),
    LectureRow("Clarifai", 2013, "1st", 11.2, "ImageNet 22k", "ambiguous",
               "the same team's entry with outside data; 11.7% won without it",
               "Simonyan and Zisserman 2015 (comparison with the state of the art)"),
    LectureRow("VGG – Oxford (16 layers)", 2014, "2nd", 7.32, "no", "ambiguous",
               "an ensemble of 7 nets of 16 and 19 layers; 6.8% later with 2 nets",
               "Simonyan and Zisserman 2015, Table 7"),
    LectureRow("GoogLeNet (19 layers)", 2014, "1st", 6.67, "no", "corrected",
               "22 layers with parameters (27 with pooling); an ensemble of 7 nets",
               "Szegedy et al. 2015, §5 and Table 2"),
    LectureRow("ResNet (152 layers)", 2015, "1st", 3.57, "no", "ambiguous",
               "an ensemble of 6 nets, two of 152 layers; one ResNet-152: 4.49%",
               "He et al. 2016, Tables 4 and 5"),
    LectureRow("Human expert*", None, "", 5.1, "", "as published",
               "one trained annotator on 1,500 test images", "Russakovsky et al. 2015 (human comparison)"),
)


def winners():
    """:data:`WINNERS` as a DataFrame indexed by year."""
    import pandas as pd

    return pd.DataFrame([asdict(w) for w in WINNERS]).set_index("year")


def lecture_table():
    """:data:`LECTURE` as a DataFrame, one row per slide row, in the slide's order."""
    import pandas as pd

    return pd.DataFrame([asdict(r) for r in LECTURE])


__all__ = ["Winner", "WINNERS", "LectureRow", "LECTURE", "winners", "lecture_table"]
