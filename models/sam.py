"""The model interface: a ``segment_anything`` ``Sam`` with encoding and decoding kept apart.

``encode`` runs the image encoder once per image; ``decode`` runs prompt encoder + mask decoder for
all prompts of one image in one call. Preprocessing (longest side resize through PIL, pixel
normalisation, padding) and the mapping of masks back to the original resolution are exactly those
of ``segment_anything.SamPredictor``; ``tests/test_model_interface.py`` holds them equal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from segment_anything.modeling import Sam
from segment_anything.utils.transforms import ResizeLongestSide
from torch import nn
from torch.nn import functional as F

from sherpa_bench.models.decoder_inputs import per_prompt, prompt_count, stack_inputs
from sherpa_bench.models.encoder_paths import EncoderPaths, run_encoder
from sherpa_bench.models.fast_attention import use_attention


def resize_to_square(masks: np.ndarray, size: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """N x H x W bool masks -> (N x S x S soft targets, S x S valid region) for models that resize
    the image to a square without keeping its aspect ratio (SAM 2, MedSAM): nothing is padding."""
    valid = torch.ones(size, size, dtype=torch.bool, device=device)
    if masks.shape[0] == 0:
        return torch.zeros(0, size, size, device=device), valid
    stack = torch.as_tensor(masks, dtype=torch.float32, device=device)[:, None]
    return F.interpolate(stack, (size, size), mode="bilinear", align_corners=False, antialias=True)[:, 0], valid


@dataclass(frozen=True)
class ImageFrame:
    """Where an image sits inside the model's square input: (H, W) before and after resizing."""

    original_size: tuple[int, int]
    input_size: tuple[int, int]


@dataclass
class DecoderOutput:
    """Mask decoder output for N prompts of one image.

    low_res_logits: N x M x h x w logits (M = 1, or 3 with multimask output; h = w = 4 x grid).
    iou_predictions: N x M predicted mask quality.
    """

    low_res_logits: torch.Tensor
    iou_predictions: torch.Tensor


def decode_images(model, embeddings: list, inputs: list[dict], multimask_output: bool = False) -> list[DecoderOutput]:
    """The prompts of several images in one decoder call (``model.decode_stacked``); one output per
    image, as ``model.decode`` gives it. One call per image when the prompts cannot be stacked
    (other kinds of prompt, another number of points: ``models/decoder_inputs.py``)."""
    stacked = stack_inputs(inputs) if len(inputs) > 1 else None
    if stacked is None:
        return [model.decode(e, **i, multimask_output=multimask_output) for e, i in zip(embeddings, inputs)]
    counts = [prompt_count(i) for i in inputs]
    out = model.decode_stacked(embeddings, counts, multimask_output=multimask_output, **stacked)
    return [DecoderOutput(*parts) for parts in zip(out.low_res_logits.split(counts), out.iou_predictions.split(counts))]


class SamModel(nn.Module):
    """A SAM (any size, the toy pair included) behind the harness's encode / decode interface.

    ``encoder_paths`` (``models/encoder_paths.py``: precision, attention kernel, ``torch.compile``)
    selects the image encoder's fast paths (:meth:`configure_encoder`).
    """

    def __init__(self, sam: Sam, name: str) -> None:
        super().__init__()
        self.sam = sam
        self.name = name
        self.transform = ResizeLongestSide(sam.image_encoder.img_size)
        self.encoder_paths = EncoderPaths()

    def configure_encoder(self, paths: EncoderPaths) -> None:
        use_attention(self.sam.image_encoder, paths.attention)
        self.encoder_paths = paths

    @property
    def image_size(self) -> int:
        return self.sam.image_encoder.img_size

    @property
    def device(self) -> torch.device:
        return self.sam.device

    @property
    def mask_threshold(self) -> float:
        return self.sam.mask_threshold

    # The parts a method may select, hook or copy; SAM 2 names them differently (models/sam2_model.py).
    @property
    def image_encoder(self) -> nn.Module:
        return self.sam.image_encoder

    @property
    def prompt_encoder(self) -> nn.Module:
        return self.sam.prompt_encoder

    @property
    def mask_decoder(self) -> nn.Module:
        return self.sam.mask_decoder

    # ------------------------------------------------------------------ images
    def prepare_image(self, image: np.ndarray) -> tuple[torch.Tensor, ImageFrame]:
        """H x W x 3 uint8 RGB -> normalised, padded 3 x S x S tensor on the model's device."""
        resized = self.transform.apply_image(image)
        tensor = torch.as_tensor(resized, device=self.device).permute(2, 0, 1).contiguous()
        frame = ImageFrame(original_size=image.shape[:2], input_size=tuple(resized.shape[:2]))
        return self.sam.preprocess(tensor[None])[0], frame

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """B x 3 x S x S prepared images -> B x C x h x w float32 image embeddings."""
        return run_encoder(self.sam.image_encoder, images, self.encoder_paths).float()

    def per_image(self, embeddings: torch.Tensor) -> list[torch.Tensor]:
        """A batch from :meth:`encode` -> one 1 x C x h x w embedding per image (what ``decode`` takes)."""
        return [embedding[None] for embedding in embeddings]

    # ------------------------------------------------------------------ prompts and masks
    def boxes_to_input(self, boxes: np.ndarray, frame: ImageFrame) -> torch.Tensor:
        """N x 4 XYXY boxes in original pixels -> N x 4 boxes in the model's input frame."""
        scaled = self.transform.apply_boxes(np.asarray(boxes, dtype=np.float64), frame.original_size)
        return torch.as_tensor(scaled, dtype=torch.float, device=self.device)

    def points_to_input(self, points: np.ndarray, frame: ImageFrame) -> torch.Tensor:
        """N x P x 2 XY points in original pixels -> the same in the model's input frame."""
        scaled = self.transform.apply_coords(np.asarray(points, dtype=np.float64), frame.original_size)
        return torch.as_tensor(scaled, dtype=torch.float, device=self.device)

    def decode(
        self,
        embedding: torch.Tensor,
        boxes: torch.Tensor | None = None,
        points: tuple[torch.Tensor, torch.Tensor] | None = None,
        multimask_output: bool = False,
        masks: torch.Tensor | None = None,
    ) -> DecoderOutput:
        """Decode all prompts of one image.

        Arguments:
            embedding: 1 x C x h x w, this image's embedding from :meth:`encode`.
            boxes: N x 4 boxes in the input frame, or None.
            points: (N x P x 2 coordinates in the input frame, N x P labels), or None.
            multimask_output: return SAM's three ambiguity masks instead of the single mask.
            masks: N x 1 x 4h x 4w mask-prompt logits in the input frame (``prompts/encode.py``), or None.
        """
        sparse, dense = self.sam.prompt_encoder(points=points, boxes=boxes, masks=masks)
        logits, iou = self.sam.mask_decoder(
            image_embeddings=embedding,
            image_pe=self.sam.prompt_encoder.get_dense_pe(),
            sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense,
            multimask_output=multimask_output,
        )
        return DecoderOutput(low_res_logits=logits, iou_predictions=iou)

    def decode_images(
        self, embeddings: list, inputs: list[dict], multimask_output: bool = False
    ) -> list[DecoderOutput]:
        """:meth:`decode` for several images (``inputs``: each image's keyword arguments) in one call."""
        return decode_images(self, embeddings, inputs, multimask_output)

    def decode_stacked(
        self,
        embeddings: list[torch.Tensor],
        counts: list[int],
        boxes: torch.Tensor | None = None,
        points: tuple[torch.Tensor, torch.Tensor] | None = None,
        multimask_output: bool = False,
        masks: torch.Tensor | None = None,
    ) -> DecoderOutput:
        """Prompts of several images, concatenated in image order (``counts[i]`` of image i)."""
        sparse, dense = self.sam.prompt_encoder(points=points, boxes=boxes, masks=masks)
        images = per_prompt(torch.cat(embeddings), counts)
        # SAM's decoder adds its one image embedding, repeated per prompt, to the dense prompt
        # embeddings. Given a zero image embedding and each prompt's own image folded into its dense
        # embedding, one call serves the prompts of several images with the sums a per-image call
        # makes (0 + x is exact), without re-implementing the decoder.
        logits, iou = self.sam.mask_decoder(
            image_embeddings=torch.zeros_like(embeddings[0]),
            image_pe=self.sam.prompt_encoder.get_dense_pe(),
            sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=images + dense,
            multimask_output=multimask_output,
        )
        return DecoderOutput(low_res_logits=logits, iou_predictions=iou)

    def masks_to_input(self, masks: np.ndarray, frame: ImageFrame) -> tuple[torch.Tensor, torch.Tensor]:
        """N x H x W bool masks -> (N x S x S soft targets in the input frame, S x S valid region).

        Antialiased resizing keeps thin structures as soft targets instead of dropping them.
        """
        size = self.image_size
        height, width = frame.input_size
        valid = torch.zeros(size, size, dtype=torch.bool, device=self.device)
        valid[:height, :width] = True
        if masks.shape[0] == 0:
            return torch.zeros(0, size, size, device=self.device), valid
        stack = torch.as_tensor(masks, dtype=torch.float32, device=self.device)[:, None]
        resized = F.interpolate(stack, (height, width), mode="bilinear", align_corners=False, antialias=True)
        return F.pad(resized[:, 0], (0, size - width, 0, size - height)), valid

    def upscale_to_input(self, low_res_logits: torch.Tensor) -> torch.Tensor:
        """Low-res logits -> logits over the padded S x S input frame (SAM's first upsampling step)."""
        size = (self.image_size, self.image_size)
        return F.interpolate(low_res_logits, size, mode="bilinear", align_corners=False)

    def logits_to_original(self, low_res_logits: torch.Tensor, frame: ImageFrame) -> torch.Tensor:
        """Low-res logits -> logits at the original image resolution (as ``SamPredictor``)."""
        return self.sam.postprocess_masks(low_res_logits, frame.input_size, frame.original_size)

    @torch.no_grad()
    def predict_boxes(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """Convenience path for one image: N boxes (original pixels) -> N x H x W bool masks."""
        prepared, frame = self.prepare_image(image)
        embedding = self.encode(prepared[None])
        out = self.decode(embedding, boxes=self.boxes_to_input(boxes, frame))
        logits = self.logits_to_original(out.low_res_logits, frame)
        return (logits[:, 0] > self.mask_threshold).cpu().numpy()
