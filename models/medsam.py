"""MedSAM (Ma et al., 2024): SAM vit_b fine-tuned on medical images, with its own preprocessing.

MedSAM's inference script does not use ``SamPredictor``: it resizes the image to 1024 x 1024
without keeping the aspect ratio, scales intensities to [0, 1] by the image's own min and max (no
ImageNet mean / std), scales boxes by 1024 / W and 1024 / H, and resizes the low-resolution logits
straight to the original size. This class does the same. Choice: the resize is torch's antialiased
bicubic, where the script uses scikit-image's order-3 resize (values differ by interpolation
rounding only).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from sherpa_bench.models.sam import ImageFrame, SamModel, resize_to_square


class MedSamModel(SamModel):
    """SAM vit_b weights from MedSAM, with MedSAM's pre- and postprocessing."""

    def prepare_image(self, image: np.ndarray) -> tuple[torch.Tensor, ImageFrame]:
        size = self.image_size
        pixels = torch.as_tensor(image, dtype=torch.float32, device=self.device).permute(2, 0, 1)[None]
        resized = F.interpolate(pixels, (size, size), mode="bicubic", align_corners=False, antialias=True)[0]
        low, high = resized.min(), resized.max()
        scaled = (resized - low) / torch.clamp(high - low, min=1e-8)
        return scaled, ImageFrame(original_size=image.shape[:2], input_size=(size, size))

    def _scale(self, frame: ImageFrame) -> np.ndarray:
        height, width = frame.original_size
        return np.array([self.image_size / width, self.image_size / height])

    def boxes_to_input(self, boxes: np.ndarray, frame: ImageFrame) -> torch.Tensor:
        scaled = np.asarray(boxes, dtype=np.float64) * np.tile(self._scale(frame), 2)
        return torch.as_tensor(scaled, dtype=torch.float, device=self.device)

    def points_to_input(self, points: np.ndarray, frame: ImageFrame) -> torch.Tensor:
        scaled = np.asarray(points, dtype=np.float64) * self._scale(frame)
        return torch.as_tensor(scaled, dtype=torch.float, device=self.device)

    def masks_to_input(self, masks: np.ndarray, frame: ImageFrame) -> tuple[torch.Tensor, torch.Tensor]:
        return resize_to_square(masks, self.image_size, self.device)

    def logits_to_original(self, low_res_logits: torch.Tensor, frame: ImageFrame) -> torch.Tensor:
        return F.interpolate(low_res_logits, frame.original_size, mode="bilinear", align_corners=False)
