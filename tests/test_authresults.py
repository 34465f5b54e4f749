"""Authentication-Results: only the trusted server's verdict, and only a pass for the sender's domain."""

from mentormail.parsers.authresults import passes_for_domain

TRUSTED = "mx.example.org"


def test_dmarc_pass_for_the_senders_domain_from_the_trusted_server() -> None:
    header = "mx.example.org; spf=pass smtp.mailfrom=uni.example; dkim=pass header.d=uni.example; dmarc=pass (p=none) header.from=uni.example"
    assert passes_for_domain((header,), TRUSTED, "uni.example")


def test_dkim_pass_alone_is_enough_and_header_i_counts() -> None:
    assert passes_for_domain(("MX.Example.ORG; dkim=pass header.i=@uni.example",), TRUSTED, "uni.example")


def test_dmarc_fail_is_not_a_pass() -> None:
    header = "mx.example.org; dkim=fail header.d=uni.example; dmarc=fail header.from=uni.example"
    assert not passes_for_domain((header,), TRUSTED, "uni.example")


def test_a_pass_for_another_domain_does_not_count() -> None:
    assert not passes_for_domain(("mx.example.org; dkim=pass header.d=attacker.example",), TRUSTED, "uni.example")


def test_a_header_from_another_server_is_ignored() -> None:
    header = "evil.example; dmarc=pass header.from=uni.example"
    assert not passes_for_domain((header,), TRUSTED, "uni.example")


def test_no_header_or_garbage_is_no_pass() -> None:
    assert not passes_for_domain((), TRUSTED, "uni.example")
    assert not passes_for_domain((";;;", "mx.example.org", "mx.example.org; dmarc"), TRUSTED, "uni.example")
