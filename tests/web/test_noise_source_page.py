"""The noise source and eta noise seed delta on the page: sent with the request, read back from infotexts."""

from __future__ import annotations

from tests.web.helpers import generate_and_wait, set_small


def test_the_chosen_noise_source_makes_the_picture_and_reuse_reads_it_back(page, engine):
    page.fill("#prompt", "noise from the CPU")
    set_small(page, steps=3)
    page.click("#variation-card summary")
    page.select_option("#randn_source", "CPU")
    page.fill("#eta_noise_seed_delta", "31337")
    generate_and_wait(page)
    info = page.text_content("#info-text")
    assert "RNG: CPU" in info and "ENSD: 31337" in info  # Euler a, the page's default sampler
    page.select_option("#randn_source", "NV")
    page.fill("#eta_noise_seed_delta", "0")
    page.click("#info-panel [data-action='reuse']")
    assert page.input_value("#randn_source") == "CPU" and page.input_value("#eta_noise_seed_delta") == "31337"
    page.select_option("#randn_source", "GPU")
    page.fill("#eta_noise_seed_delta", "0")
    generate_and_wait(page)
    assert "RNG" not in page.text_content("#info-text")  # A1111's default source is left out, as A1111 does
    page.select_option("#randn_source", "CPU")
    page.click("#info-panel [data-action='reuse']")
    assert page.input_value("#randn_source") == "GPU"  # no RNG in an infotext means GPU
