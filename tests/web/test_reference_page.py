"""The ControlNet panel with a reference unit: the Reference type, no model needed, the unit sent."""

from __future__ import annotations

from typing import Any

from tests.web.helpers import generate_and_wait, png_bytes, set_small


def test_a_reference_unit_needs_no_model(page: Any, engine: Any) -> None:
    set_small(page)
    page.click("#cn-card summary")
    page.wait_for_function("document.querySelector('.cn-unit .cn-type').options.length > 1")
    page.select_option(".cn-unit[data-unit='0'] .cn-type", "Reference")
    unit0 = ".cn-unit[data-unit='0']"
    assert page.input_value(f"{unit0} .cn-module") == "reference_only"
    assert page.eval_on_selector_all(f"{unit0} .cn-model option", "o => o.map(x => x.value)") == ["None"]
    assert page.locator(f"{unit0} .cn-thresholds input").count() == 1  # the style fidelity
    page.set_input_files(f"{unit0} input[type=file]",
                         files=[{"name": "ref.png", "mimeType": "image/png", "buffer": png_bytes()}])
    page.wait_for_selector(f"{unit0} .cn-picture", state="visible")
    with page.expect_request("**/sdapi/v1/txt2img") as request:
        generate_and_wait(page)
    unit = request.value.post_data_json["alwayson_scripts"]["controlnet"]["args"][0]
    assert unit["module"] == "reference_only" and unit["model"] == "None" and unit["threshold_a"] == 0.5
    assert page.text_content(f"{unit0} .cn-error") == ""
