"""SAM 2 / 2.1 image models behind the same encode / decode interface as :class:`SamModel`.

Preprocessing and postprocessing are ``SAM2ImagePredictor``'s own (``SAM2Transforms``: the image
is resized to a square without keeping its aspect ratio, ImageNet normalisation; masks are resized
straight back), so the masks equal the predictor's (tests/test_model_zoo.py). Two differences in
*where* work happens, not in what is computed:

* ``encode`` returns the raw multi-level features; the mask decoder's ``conv_s0`` / ``conv_s1``
  projections of the high-resolution levels run in ``decode``. They belong to the mask decoder,
  which decoder-only fine-tuning trains, so a cached embedding must not contain them.
* a box is passed as two corner points with labels 2 and 3, as the predictor does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
from sam2.modeling.sam2_base import SAM2Base
from sam2.utils.transforms import SAM2Transforms
from torch import nn
from torch.nn import functional as F

from sherpa_bench.models.decoder_inputs import per_prompt
from sherpa_bench.models.encoder_paths import EncoderPaths, run_encoder
from sherpa_bench.models.sam import DecoderOutput, ImageFrame, decode_images, resize_to_square


@dataclass
class Sam2Features:
    """SAM 2 image features of a batch: the 1/16 embedding (no-memory embedding added) and the two
    higher-resolution levels before the decoder's projections."""

    image_embed: torch.Tensor
    high_res: tuple[torch.Tensor, torch.Tensor]


class Sam2Model(nn.Module):
    """A ``sam2`` ``SAM2Base`` image model behind the harness's interface (see :class:`SamModel`)."""

    def __init__(self, sam: SAM2Base, name: str) -> None:
        super().__init__()
        self.sam = sam
        self.name = name
        self.transforms = SAM2Transforms(resolution=sam.image_size, mask_threshold=0.0)
        self.encoder_paths = EncoderPaths(attention="sdpa")  # Hiera's own attention already calls SDPA

    def configure_encoder(self, paths: EncoderPaths) -> None:
        """``paths.attention`` is SAM-ViT-only and has no effect here (Hiera already uses SDPA)."""
        self.encoder_paths = replace(paths, attention="sdpa")

    @property
    def image_size(self) -> int:
        return self.sam.image_size

    @property
    def device(self) -> torch.device:
        return self.sam.device

    @property
    def mask_threshold(self) -> float:
        return 0.0

    @property
    def image_encoder(self) -> nn.Module:
        return self.sam.image_encoder

    @property
    def prompt_encoder(self) -> nn.Module:
        return self.sam.sam_prompt_encoder

    @property
    def mask_decoder(self) -> nn.Module:
        return self.sam.sam_mask_decoder

    def prepare_image(self, image: np.ndarray) -> tuple[torch.Tensor, ImageFrame]:
        size = (self.image_size, self.image_size)
        return self.transforms(image).to(self.device), ImageFrame(original_size=image.shape[:2], input_size=size)

    def encode(self, images: torch.Tensor) -> Sam2Features:
        levels = run_encoder(self.sam.image_encoder, images, self.encoder_paths)["backbone_fpn"]
        levels = levels[-self.sam.num_feature_levels :]
        levels = [level.float() for level in levels]
        embed = levels[-1]
        if self.sam.directly_add_no_mem_embed:
            embed = embed + self.sam.no_mem_embed.reshape(1, -1, 1, 1)
        return Sam2Features(embed, (levels[0], levels[1]))

    def per_image(self, features: Sam2Features) -> list[Sam2Features]:
        return [
            Sam2Features(features.image_embed[i : i + 1], tuple(level[i : i + 1] for level in features.high_res))
            for i in range(features.image_embed.shape[0])
        ]

    def boxes_to_input(self, boxes: np.ndarray, frame: ImageFrame) -> torch.Tensor:
        tensor = torch.as_tensor(np.asarray(boxes, dtype=np.float64), dtype=torch.float, device=self.device)
        return self.transforms.transform_boxes(tensor, normalize=True, orig_hw=frame.original_size).reshape(-1, 4)

    def points_to_input(self, points: np.ndarray, frame: ImageFrame) -> torch.Tensor:
        tensor = torch.as_tensor(np.asarray(points, dtype=np.float64), dtype=torch.float, device=self.device)
        return self.transforms.transform_coords(tensor, normalize=True, orig_hw=frame.original_size)

    def _prompt_embeddings(self, boxes, points, masks) -> tuple[torch.Tensor, torch.Tensor, bool]:
        """SAM 2's prompt encoder takes boxes as two labelled corner points, before any clicks."""
        coords = labels = None
        if boxes is not None:
            coords = boxes.reshape(-1, 2, 2)
            labels = torch.tensor([[2, 3]], dtype=torch.int, device=boxes.device).repeat(boxes.shape[0], 1)
        if points is not None:
            point_labels = points[1].to(torch.int)
            coords = points[0] if coords is None else torch.cat([coords, points[0]], dim=1)
            labels = point_labels if labels is None else torch.cat([labels, point_labels], dim=1)
        prompts = None if coords is None else (coords, labels)
        sparse, dense = self.sam.sam_prompt_encoder(points=prompts, boxes=None, masks=masks)
        return sparse, dense, prompts is not None and prompts[0].shape[0] > 1

    def decode(
        self,
        embedding: Sam2Features,
        boxes: torch.Tensor | None = None,
        points: tuple[torch.Tensor, torch.Tensor] | None = None,
        multimask_output: bool = False,
        masks: torch.Tensor | None = None,
    ) -> DecoderOutput:
        sparse, dense, several = self._prompt_embeddings(boxes, points, masks)
        decoder = self.sam.sam_mask_decoder
        high_res = [decoder.conv_s0(embedding.high_res[0]), decoder.conv_s1(embedding.high_res[1])]
        logits, iou, _, _ = decoder(
            image_embeddings=embedding.image_embed,
            image_pe=self.sam.sam_prompt_encoder.get_dense_pe(),
            sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense,
            multimask_output=multimask_output,
            repeat_image=several,
            high_res_features=high_res,
        )
        return DecoderOutput(low_res_logits=logits, iou_predictions=iou)

    def decode_images(
        self, embeddings: list, inputs: list[dict], multimask_output: bool = False
    ) -> list[DecoderOutput]:
        return decode_images(self, embeddings, inputs, multimask_output)

    def decode_stacked(
        self,
        embeddings: list[Sam2Features],
        counts: list[int],
        boxes: torch.Tensor | None = None,
        points: tuple[torch.Tensor, torch.Tensor] | None = None,
        multimask_output: bool = False,
        masks: torch.Tensor | None = None,
    ) -> DecoderOutput:
        """See ``SamModel.decode_stacked``; SAM 2's decoder takes one image per prompt as it is."""
        sparse, dense, _ = self._prompt_embeddings(boxes, points, masks)
        decoder = self.sam.sam_mask_decoder
        levels = [torch.cat([e.high_res[i] for e in embeddings]) for i in (0, 1)]
        logits, iou, _, _ = decoder(
            image_embeddings=per_prompt(torch.cat([e.image_embed for e in embeddings]), counts),
            image_pe=self.sam.sam_prompt_encoder.get_dense_pe(),
            sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense,
            multimask_output=multimask_output,
            repeat_image=False,
            high_res_features=[
                per_prompt(decoder.conv_s0(levels[0]), counts),
                per_prompt(decoder.conv_s1(levels[1]), counts),
            ],
        )
        return DecoderOutput(low_res_logits=logits, iou_predictions=iou)

    def masks_to_input(self, masks: np.ndarray, frame: ImageFrame) -> tuple[torch.Tensor, torch.Tensor]:
        return resize_to_square(masks, self.image_size, self.device)

    def upscale_to_input(self, low_res_logits: torch.Tensor) -> torch.Tensor:
        size = (self.image_size, self.image_size)
        return F.interpolate(low_res_logits, size, mode="bilinear", align_corners=False)

    def logits_to_original(self, low_res_logits: torch.Tensor, frame: ImageFrame) -> torch.Tensor:
        return self.transforms.postprocess_masks(low_res_logits, frame.original_size)

    @torch.no_grad()
    def predict_boxes(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        prepared, frame = self.prepare_image(image)
        features = self.encode(prepared[None])
        out = self.decode(features, boxes=self.boxes_to_input(boxes, frame))
        return (self.logits_to_original(out.low_res_logits, frame)[:, 0] > self.mask_threshold).cpu().numpy()
