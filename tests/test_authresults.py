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


# --- read method by method, as RFC 8601 defines the header ----------------------------------


def test_a_method_merely_named_like_dkim_is_not_a_dkim_pass() -> None:
    assert not passes_for_domain(("mx.example.org; x-dkim=pass header.d=uni.example",), TRUSTED, "uni.example")


def test_dkim_pass_inside_another_methods_property_is_not_a_pass() -> None:
    header = "mx.example.org; spf=pass smtp.mailfrom=dkim=pass; dkim=fail header.d=uni.example"
    assert not passes_for_domain((header,), TRUSTED, "uni.example")
    header = "mx.example.org; spf=pass smtp.mailfrom=dkim=pass header.d=uni.example"
    assert not passes_for_domain((header,), TRUSTED, "uni.example")


def test_a_pass_in_a_comment_is_not_a_pass() -> None:
    header = "mx.example.org; dkim=fail (dkim=pass header.d=uni.example) header.d=uni.example"
    assert not passes_for_domain((header,), TRUSTED, "uni.example")


def test_only_the_trusted_servers_topmost_header_counts() -> None:
    """The receiving server adds its header above the sender's: a pass further down is forged."""
    ours = "mx.example.org; dkim=fail header.d=uni.example; dmarc=fail header.from=uni.example"
    forged = "mx.example.org; dkim=pass header.d=uni.example; dmarc=pass header.from=uni.example"
    assert not passes_for_domain((ours, forged), TRUSTED, "uni.example")
    assert passes_for_domain(("other.example; dkim=fail", forged), TRUSTED, "uni.example")


def test_a_version_after_the_authserv_id_and_folded_lines_are_read() -> None:
    header = "mx.example.org 1;\r\n\tdkim=pass header.d=uni.example;\r\n dmarc=pass header.from=uni.example"
    assert passes_for_domain((header,), TRUSTED, "uni.example")


def test_a_huge_header_is_no_pass_and_is_not_parsed() -> None:
    padding = "; ".join(["spf=pass smtp.mailfrom=uni.example"] * 20_000)
    assert not passes_for_domain((f"mx.example.org; {padding}; dkim=pass header.d=uni.example",), TRUSTED, "uni.example")
    assert not passes_for_domain((f"evil.example; {padding}",) * 10, TRUSTED, "uni.example")
