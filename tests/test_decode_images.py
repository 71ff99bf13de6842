"""One decoder call for the prompts of several images gives what one call per image gives."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sherpa_bench.models.decoder_inputs import prompt_count, stack_inputs
from sherpa_bench.models.toy import load_toy
from sherpa_bench.prompts import PROMPTS
from sherpa_bench.prompts.encode import prompts_to_input


def _images_and_prompts(model, samples, protocol="box", seed=0):
    rng = np.random.default_rng(seed)
    embeddings, inputs = [], []
    for sample in samples:
        prepared, frame = model.prepare_image(sample.image)
        with torch.no_grad():
            embeddings.append(model.encode(prepared[None]))
        inputs.append(prompts_to_input(model, PROMPTS.get(protocol).make(sample.masks, rng), frame))
    return embeddings, inputs


def _assert_same(batched, separate, atol=1e-5):
    assert len(batched) == len(separate)
    for ours, theirs in zip(batched, separate):
        torch.testing.assert_close(ours.low_res_logits, theirs.low_res_logits, atol=atol, rtol=1e-5)
        torch.testing.assert_close(ours.iou_predictions, theirs.iou_predictions, atol=atol, rtol=1e-5)


def test_stacking_keeps_image_order_and_refuses_what_cannot_share_a_call():
    boxes = [torch.full((n, 4), float(n)) for n in (2, 3)]
    stacked = stack_inputs([{"boxes": b} for b in boxes])
    assert torch.equal(stacked["boxes"], torch.cat(boxes)) and prompt_count(stacked) == 5
    points = [(torch.zeros(2, p, 2), torch.ones(2, p)) for p in (1, 3)]
    assert stack_inputs([{"points": p} for p in points]) is None  # another number of points per prompt
    assert stack_inputs([{"boxes": boxes[0]}, {"points": points[0]}]) is None  # another kind of prompt


@pytest.mark.parametrize("multimask", [False, True])
@pytest.mark.parametrize("protocol", ["box", "points-3", "coarse-mask"])
def test_sam_batched_decoding_equals_one_call_per_image(generic_samples, protocol, multimask, device):
    model = load_toy("toy-large").to(device)
    embeddings, inputs = _images_and_prompts(model, generic_samples[:4], protocol)
    assert len({prompt_count(i) for i in inputs}) > 1  # images with different numbers of prompts
    with torch.no_grad():
        separate = [model.decode(e, **i, multimask_output=multimask) for e, i in zip(embeddings, inputs)]
        batched = model.decode_images(embeddings, inputs, multimask_output=multimask)
    _assert_same(batched, separate)


def test_sam_batched_decoding_gives_the_per_image_gradients(generic_samples):
    def decoder_gradients(decode):
        model.zero_grad(set_to_none=True)
        outputs = decode()
        torch.stack([out.low_res_logits.square().mean() for out in outputs]).sum().backward()
        return {n: p.grad for n, p in model.mask_decoder.named_parameters()}

    model = load_toy("toy-small")
    embeddings, inputs = _images_and_prompts(model, generic_samples[:3])
    separate = decoder_gradients(lambda: [model.decode(e, **i) for e, i in zip(embeddings, inputs)])
    batched = decoder_gradients(lambda: model.decode_images(embeddings, inputs))
    assert sum(g is not None for g in separate.values()) > len(separate) // 2
    for name, gradient in separate.items():
        if gradient is None:  # a part the loss does not reach (the IoU head here)
            assert batched[name] is None, name
        else:
            torch.testing.assert_close(batched[name], gradient, atol=1e-5, rtol=1e-4)


def test_mixed_prompt_kinds_fall_back_to_one_call_per_image(generic_samples):
    model = load_toy("toy-small")
    embeddings, inputs = _images_and_prompts(model, generic_samples[:2])
    _, point_inputs = _images_and_prompts(model, generic_samples[1:2], "points-1")
    inputs[1] = point_inputs[0]
    with torch.no_grad():
        separate = [model.decode(e, **i) for e, i in zip(embeddings, inputs)]
        batched = model.decode_images(embeddings, inputs)
    _assert_same(batched, separate, atol=0)


@pytest.mark.slow
@pytest.mark.parametrize("multimask", [False, True])
def test_sam2_batched_decoding_equals_one_call_per_image(multimask):
    from sam2.build_sam import build_sam2

    from sherpa_bench.models.sam2_model import Sam2Features, Sam2Model

    torch.manual_seed(0)
    model = Sam2Model(build_sam2("configs/sam2.1/sam2.1_hiera_t.yaml", None, device="cpu"), "hiera-t").eval()
    embeddings = [
        Sam2Features(torch.randn(1, 256, 64, 64), (torch.randn(1, 256, 256, 256), torch.randn(1, 256, 128, 128)))
        for _ in range(3)
    ]
    inputs = [{"boxes": torch.tensor([[10.0, 20.0, 300.0, 400.0]] * n) + 7 * n} for n in (1, 3, 2)]
    with torch.no_grad():
        separate = [model.decode(e, **i, multimask_output=multimask) for e, i in zip(embeddings, inputs)]
        batched = model.decode_images(embeddings, inputs, multimask_output=multimask)
    _assert_same(batched, separate)
