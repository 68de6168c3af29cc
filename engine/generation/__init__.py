"""The generation passes (txt2img, img2img, inpainting, hires fix), samplers, steps, previews and infotext."""
