"""Released checkpoints: each architecture built with random weights, saved in its official format,
loaded through the zoo, must predict what the stock builder + predictor predict from the same file;
wrong or unsafe files are refused before anything runs."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from sherpa_bench.harness.errors import UserError
from sherpa_bench.harness.registry import MODELS
from sherpa_bench.models.checkpoints import CheckpointError, infer_architecture, read_state_dict

IMAGE = np.random.default_rng(0).integers(0, 256, (48, 72, 3), dtype=np.uint8)
BOXES = np.array([[4.0, 6.0, 40.0, 30.0], [20.0, 10.0, 70.0, 47.0]])


@pytest.fixture
def checkpoints(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("SHERPA_BENCH_CHECKPOINTS", str(tmp_path))
    return tmp_path


def _save_sam(architecture: str, path: Path, meta: bool = False) -> None:
    """An official-format SAM file (a raw state dict); on the meta device it is names and shapes only."""
    from segment_anything import sam_model_registry

    torch.manual_seed(0)
    with torch.device("meta" if meta else "cpu"):
        model = sam_model_registry[architecture](checkpoint=None)
    torch.save(model.state_dict(), path)


def test_sam_vit_b_predicts_what_the_stock_predictor_predicts(checkpoints):
    from segment_anything import SamPredictor, sam_model_registry

    path = checkpoints / "sam_vit_b_01ec64.pth"
    _save_sam("vit_b", path)
    predictor = SamPredictor(sam_model_registry["vit_b"](checkpoint=str(path)).eval())
    predictor.set_image(IMAGE)
    boxes = predictor.transform.apply_boxes_torch(torch.as_tensor(BOXES, dtype=torch.float), IMAGE.shape[:2])
    expected, expected_iou, _ = predictor.predict_torch(
        None, None, boxes=boxes, multimask_output=False, return_logits=True
    )
    model = MODELS.get("sam-vit-b").load()
    with torch.no_grad():
        prepared, frame = model.prepare_image(IMAGE)
        embedding = model.per_image(model.encode(prepared[None]))[0]
        out = model.decode(embedding, boxes=model.boxes_to_input(BOXES, frame))
        logits = model.logits_to_original(out.low_res_logits, frame)
    torch.testing.assert_close(logits, expected, atol=1e-4, rtol=0)
    torch.testing.assert_close(out.iou_predictions, expected_iou, atol=1e-5, rtol=0)
    assert np.array_equal(model.predict_boxes(IMAGE, BOXES), (expected[:, 0] > 0).numpy())


def test_sam2_hiera_tiny_predicts_what_sam2_image_predictor_predicts(checkpoints):
    from sam2.build_sam import build_sam2
    from sam2.sam2_image_predictor import SAM2ImagePredictor

    torch.manual_seed(0)
    config = "configs/sam2.1/sam2.1_hiera_t.yaml"
    path = checkpoints / "sam2.1_hiera_tiny.pt"
    torch.save({"model": build_sam2(config, None, device="cpu").state_dict()}, path)
    predictor = SAM2ImagePredictor(build_sam2(config, str(path), device="cpu"))
    predictor.set_image(IMAGE)
    expected, expected_iou, _ = predictor.predict(box=BOXES, multimask_output=False, return_logits=True)
    model = MODELS.get("sam2.1-hiera-t").load()
    with torch.no_grad():
        prepared, frame = model.prepare_image(IMAGE)
        features = model.per_image(model.encode(prepared[None]))[0]
        out = model.decode(features, boxes=model.boxes_to_input(BOXES, frame))
        logits = model.logits_to_original(out.low_res_logits, frame)
    np.testing.assert_allclose(logits.numpy(), expected, atol=1e-4, rtol=0)
    np.testing.assert_allclose(out.iou_predictions.numpy(), expected_iou, atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    ("name", "config", "architecture"),
    [
        ("sam2.1-hiera-s", "sam2.1_hiera_s", "hiera_s"),
        ("sam2.1-hiera-b+", "sam2.1_hiera_b+", "hiera_b+"),
        ("sam2.1-hiera-l", "sam2.1_hiera_l", "hiera_l"),
    ],
)
def test_every_sam2_size_is_recognised_from_its_tensors(name, config, architecture, tmp_path):
    from sam2.build_sam import build_sam2

    state = build_sam2(f"configs/sam2.1/{config}.yaml", None, device="cpu").state_dict()
    assert infer_architecture(state) == architecture
    assert MODELS.get(name).architecture == architecture


@pytest.mark.parametrize(("architecture", "width"), [("vit_b", 768), ("vit_l", 1024), ("vit_h", 1280)])
def test_every_sam_size_is_recognised_from_its_tensors(architecture, width, tmp_path):
    path = tmp_path / "file.pth"
    _save_sam(architecture, path, meta=True)
    state = read_state_dict(path)
    assert state["image_encoder.patch_embed.proj.weight"].shape[0] == width
    assert infer_architecture(state) == architecture


def test_a_vit_l_file_requested_as_vit_h_is_refused_with_the_keys_that_differ(checkpoints):
    _save_sam("vit_l", checkpoints / "sam_vit_h_4b8939.pth", meta=True)
    with pytest.raises(CheckpointError) as caught:
        MODELS.get("sam-vit-h").load()
    message = str(caught.value)
    assert "sam vit_h" in message and "looks like vit_l" in message
    # vit_h has 32 blocks, vit_l 24: the 8 extra blocks are missing, widths differ everywhere else
    assert re.search(r"keys missing: image_encoder\.blocks\.\*\.", message)
    assert re.search(r"\d+ keys of another shape: image_encoder\.", message)


def test_wrapper_prefixes_and_the_model_key_are_removed(tmp_path):
    state = {"module._orig_mod.mask_decoder.w": torch.ones(2), "_orig_mod.prompt_encoder.b": torch.zeros(1)}
    torch.save({"model": state, "epoch": 3}, tmp_path / "ckpt.pt")
    assert set(read_state_dict(tmp_path / "ckpt.pt")) == {"mask_decoder.w", "prompt_encoder.b"}


class Payload:
    """Any Python object: unpickling it would run code of the file's choosing."""


def test_a_pickled_object_in_a_checkpoint_is_refused(tmp_path):
    path = tmp_path / "sam_vit_b_01ec64.pth"
    torch.save({"image_encoder.x": torch.ones(1), "extra": Payload()}, path)
    with pytest.raises(CheckpointError, match="pickled Python objects"):
        read_state_dict(path)


def test_a_truncated_file_is_refused_with_its_path(tmp_path):
    path = tmp_path / "sam_vit_b_01ec64.pth"
    torch.save({"a": torch.ones(100)}, path)
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(CheckpointError, match=re.escape(str(path))):
        read_state_dict(path)


def test_a_missing_file_names_the_folder_and_the_download(checkpoints):
    with pytest.raises(UserError, match=r"sam_vit_b_01ec64\.pth does not exist; download .*segment-anything"):
        MODELS.get("sam-vit-b").load()


def test_no_checkpoint_folder_says_how_to_set_one(monkeypatch):
    monkeypatch.delenv("SHERPA_BENCH_CHECKPOINTS", raising=False)
    with pytest.raises(UserError, match="--checkpoint-dir DIR or set SHERPA_BENCH_CHECKPOINTS"):
        MODELS.get("sam2.1-hiera-l").load()


def test_medsam_scales_intensities_and_boxes_as_its_inference_script(checkpoints):
    _save_sam("vit_b", checkpoints / "medsam_vit_b.pth")
    model = MODELS.get("medsam").load()
    prepared, frame = model.prepare_image(IMAGE)
    assert prepared.shape == (3, 1024, 1024)
    assert float(prepared.min()) == 0.0 and float(prepared.max()) == pytest.approx(1.0)
    box = model.boxes_to_input(np.array([[36.0, 12.0, 72.0, 48.0]]), frame)  # W = 72, H = 48
    assert box.tolist() == [[512.0, 256.0, 1024.0, 1024.0]]


def test_list_models_shows_present_files_with_size_and_hash(checkpoints):
    from typer.testing import CliRunner

    from sherpa_bench.harness.cli import app
    from sherpa_bench.models.checkpoints import file_sha256

    path = checkpoints / "sam_vit_b_01ec64.pth"
    _save_sam("vit_b", path, meta=True)
    result = CliRunner().invoke(app, ["list", "models", "--checkpoint-dir", str(checkpoints)])
    assert result.exit_code == 0, result.output
    assert f"present: {path}" in result.output and file_sha256(path)[:16] in result.output
    assert "missing: sam_vit_h_4b8939.pth" in result.output
