"""Title normalisation, shared by feed reading, matching and the local source."""

from kg.text import normalise_title


def test_normalise_title_folds_markup_and_latex():
    assert normalise_title("Deep <i>Regression</i> Unlearning.") == "deep regression unlearning"
    assert normalise_title("The Hedgehog &amp; the Porcupine") == normalise_title("The Hedgehog & the Porcupine")
    assert normalise_title("Bound with $\\ell_\\infty$ Guarantee") == normalise_title("Bound with ell_infty Guarantee")
    assert normalise_title("Self\u2010Supervised “Learning”") == "self supervised learning"
