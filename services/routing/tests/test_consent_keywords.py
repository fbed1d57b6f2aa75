import pytest

from routing.domain.consent import consent_keyword, default_help_text


@pytest.mark.parametrize(
    ("body", "action", "keyword"),
    [
        ("STOP", "opt_out", "STOP"),
        ("stop", "opt_out", "STOP"),
        ("Stop.", "opt_out", "STOP"),
        ("  sToP!  \n", "opt_out", "STOP"),
        ("STOPALL", "opt_out", "STOPALL"),
        ("stop all", "opt_out", "STOP ALL"),
        ("Unsubscribe", "opt_out", "UNSUBSCRIBE"),
        ("cancel", "opt_out", "CANCEL"),
        ("End", "opt_out", "END"),
        ("quit", "opt_out", "QUIT"),
        ("revoke", "opt_out", "REVOKE"),
        ("OptOut", "opt_out", "OPTOUT"),
        ("arret", "opt_out", "ARRET"),
        ("Arrêt", "opt_out", "ARRÊT"),
        ("ARRE\u0302T", "opt_out", "ARRÊT"),  # the same word with a combining accent
        ("🛑 STOP 🛑", "opt_out", "STOP"),
        ("start", "opt_in", "START"),
        ("Yes", "opt_in", "YES"),
        ("unstop", "opt_in", "UNSTOP"),
        ("help", "help", "HELP"),
        ("Help?", "help", "HELP"),
    ],
)
def test_keywords_in_any_case_with_spaces_and_punctuation(body, action, keyword):
    found = consent_keyword(body)
    assert found is not None
    assert (found.action, found.keyword) == (action, keyword)


@pytest.mark.parametrize(
    "body",
    [
        "",
        None,
        "please stop by tomorrow",
        "Stop texting me please",
        "yes please",
        "stopp",
        "S T O P",
        "Arrête",
        "I need help with my car",
        "help " * 20,
    ],
)
def test_ordinary_messages_are_not_keywords(body):
    assert consent_keyword(body) is None


def test_default_help_text_names_the_dealership_and_the_keywords():
    text = default_help_text("Demo Motors")
    assert text.startswith("Demo Motors:")
    assert "STOP" in text and "START" in text
