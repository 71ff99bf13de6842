"""The model interface reproduces segment_anything's SamPredictor exactly, with encode/decode apart."""

from __future__ import annotations

import numpy as np
import torch
from segment_anything import SamPredictor

from sherpa_bench.prompts import boxes_for_sample


def test_masks_equal_sam_predictor_for_same_image_and_box(random_toy, generic_samples):
    predictor = SamPredictor(random_toy.sam)
    for sample in generic_samples[:4]:
        boxes = boxes_for_sample(sample.masks)
        ours = random_toy.predict_boxes(sample.image, boxes)
        predictor.set_image(sample.image)
        for k, box in enumerate(boxes):
            theirs, _, _ = predictor.predict(box=box, multimask_output=False)
            assert np.array_equal(ours[k], theirs[0])


def test_logits_equal_sam_predictor_not_just_thresholded_masks(random_toy, generic_samples):
    sample = generic_samples[0]
    box = boxes_for_sample(sample.masks)[:1]
    predictor = SamPredictor(random_toy.sam)
    predictor.set_image(sample.image)
    theirs, _, _ = predictor.predict(box=box[0], multimask_output=True, return_logits=True)
    prepared, frame = random_toy.prepare_image(sample.image)
    with torch.no_grad():
        out = random_toy.decode(
            random_toy.encode(prepared[None]), random_toy.boxes_to_input(box, frame), multimask_output=True
        )
        ours = random_toy.logits_to_original(out.low_res_logits, frame)[0].numpy()
    assert ours.shape == theirs.shape == (3, *sample.size)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)


def test_batched_encoding_equals_one_image_at_a_time(random_toy, generic_samples):
    prepared = [random_toy.prepare_image(s.image)[0] for s in generic_samples[:3]]
    with torch.no_grad():
        together = random_toy.encode(torch.stack(prepared))
        alone = torch.cat([random_toy.encode(p[None]) for p in prepared])
    torch.testing.assert_close(together, alone, rtol=1e-4, atol=1e-5)


def test_all_prompts_of_an_image_decode_in_one_call_like_one_by_one(random_toy, generic_samples):
    sample = next(s for s in generic_samples if s.masks.shape[0] >= 2)
    prepared, frame = random_toy.prepare_image(sample.image)
    boxes = random_toy.boxes_to_input(boxes_for_sample(sample.masks), frame)
    with torch.no_grad():
        embedding = random_toy.encode(prepared[None])
        together = random_toy.decode(embedding, boxes).low_res_logits
        alone = torch.cat([random_toy.decode(embedding, boxes[k : k + 1]).low_res_logits for k in range(len(boxes))])
    torch.testing.assert_close(together, alone, rtol=1e-4, atol=1e-5)


def test_targets_in_input_frame_cover_the_image_and_not_the_padding(random_toy, generic_samples):
    sample = generic_samples[0]
    _, frame = random_toy.prepare_image(sample.image)
    targets, valid = random_toy.masks_to_input(sample.masks, frame)
    height, width = frame.input_size
    assert max(height, width) == random_toy.image_size
    assert valid.sum() == height * width
    assert targets[:, height:, :].abs().sum() == 0 and targets[:, :, width:].abs().sum() == 0
    # area is preserved up to the resize scale
    scale = (height * width) / (sample.size[0] * sample.size[1])
    np.testing.assert_allclose(targets.sum(dim=(1, 2)).numpy(), sample.masks.sum(axis=(1, 2)) * scale, rtol=0.05)
