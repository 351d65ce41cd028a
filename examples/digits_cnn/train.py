#!/usr/bin/env python3
"""Trains lowbit's example model, a small quantized CNN, and exports it.

The data is scikit-learn's bundled 8x8 handwritten digits (`load_digits`, no
download): inputs scaled to [0, 1] as x/16, shape [N, 1, 8, 8], the same
80/20 stratified split (random_state 0) as the corpus's digits MLP.

Network (Brevitas quantization-aware training):

    QuantIdentity          uint8 input
    QuantConv2d 1->8 3x3   pad 1, 4-bit per-channel weights, Int32Bias, int8 out
    QuantReLU              4 bits
    MaxPool2d 2            -> 8x4x4
    QuantConv2d 8->16 3x3  pad 1, 4-bit per-channel weights, Int32Bias, int8 out
    QuantReLU              4 bits
    MaxPool2d 2            -> 16x2x2
    flatten                -> 64
    QuantLinear 64->10     4-bit weights, Int32Bias, int8 logits

Writes next to this script:

    model.onnx             QCDQ export (export_onnx_qcdq, opset 13, TorchScript exporter)
    test_x.npy, test_y.npy the test split (float32 [360,1,8,8], int64 [360])
    input.npy              the first 8 test images
    expected_ort.npy       ONNX Runtime's logits for input.npy
    ort_test_logits.npy    ONNX Runtime's logits for the whole test split
    metrics.json           accuracies (Brevitas, ONNX Runtime), versions, sizes

Needs torch, brevitas, scikit-learn, onnx and onnxruntime (see README.md);
CI never runs it: its outputs are committed.
"""

import json
import pathlib
import time

import numpy as np
import onnxruntime as ort
import torch
import torch.nn as nn
from brevitas import __version__ as brevitas_version
import brevitas.nn as qnn
from brevitas.export import export_onnx_qcdq
from brevitas.quant import (
    Int8ActPerTensorFloat,
    Int8WeightPerChannelFloat,
    Int8WeightPerTensorFloat,
    Int32Bias,
    Uint8ActPerTensorFloat,
)
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

HERE = pathlib.Path(__file__).resolve().parent
SEED = 0
EPOCHS = 60
BATCH = 64


class DigitsCnn(nn.Module):
    """The quantized CNN described in the module docstring."""

    def __init__(self):
        super().__init__()
        self.inp = qnn.QuantIdentity(act_quant=Uint8ActPerTensorFloat, return_quant_tensor=True)
        self.conv1 = qnn.QuantConv2d(
            1, 8, 3, padding=1, weight_bit_width=4, weight_quant=Int8WeightPerChannelFloat,
            bias=True, bias_quant=Int32Bias, output_quant=Int8ActPerTensorFloat, return_quant_tensor=True)
        self.relu1 = qnn.QuantReLU(bit_width=4, return_quant_tensor=True)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = qnn.QuantConv2d(
            8, 16, 3, padding=1, weight_bit_width=4, weight_quant=Int8WeightPerChannelFloat,
            bias=True, bias_quant=Int32Bias, output_quant=Int8ActPerTensorFloat, return_quant_tensor=True)
        self.relu2 = qnn.QuantReLU(bit_width=4, return_quant_tensor=True)
        self.pool2 = nn.MaxPool2d(2)
        self.fc = qnn.QuantLinear(
            64, 10, weight_bit_width=4, weight_quant=Int8WeightPerTensorFloat,
            bias=True, bias_quant=Int32Bias, output_quant=Int8ActPerTensorFloat, return_quant_tensor=False)

    def forward(self, x):
        x = self.inp(x)
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        return self.fc(torch.flatten(x, 1))


def data():
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    y = digits.target.astype(np.int64)
    return train_test_split(x, y, test_size=0.2, random_state=SEED, stratify=y)


def train(model, x, y):
    torch.manual_seed(SEED)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, EPOCHS)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(len(xt))
        total = 0.0
        for i in range(0, len(xt), BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        if epoch % 10 == 9:
            print(f"epoch {epoch + 1}: loss {total / len(xt):.4f}")


def main():
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    x_train, x_test, y_train, y_test = data()
    model = DigitsCnn()
    started = time.time()
    train(model, x_train, y_train)
    train_seconds = time.time() - started
    model.eval()
    with torch.no_grad():
        brevitas_logits = model(torch.from_numpy(x_test)).numpy()
    brevitas_acc = float((brevitas_logits.argmax(1) == y_test).mean())
    print(f"Brevitas test accuracy {brevitas_acc:.4f}")

    onnx_path = HERE / "model.onnx"
    export_onnx_qcdq(model, torch.from_numpy(x_test[:1]), export_path=str(onnx_path), opset_version=13,
                     dynamo=False, input_names=["input"], output_names=["logits"],
                     dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    ort_logits = session.run(None, {"input": x_test})[0]
    ort_acc = float((ort_logits.argmax(1) == y_test).mean())
    agree = float((ort_logits.argmax(1) == brevitas_logits.argmax(1)).mean())
    print(f"ONNX Runtime test accuracy {ort_acc:.4f} (agrees with Brevitas on {agree:.4f})")

    np.save(HERE / "test_x.npy", x_test)
    np.save(HERE / "test_y.npy", y_test)
    np.save(HERE / "input.npy", x_test[:8])
    np.save(HERE / "expected_ort.npy", ort_logits[:8])
    np.save(HERE / "ort_test_logits.npy", ort_logits)
    metrics = {
        "dataset": "sklearn load_digits, x/16, train_test_split(test_size=0.2, random_state=0, stratify=y)",
        "train_images": int(len(x_train)),
        "test_images": int(len(x_test)),
        "epochs": EPOCHS,
        "train_seconds": round(train_seconds, 1),
        "brevitas_test_accuracy": round(brevitas_acc, 4),
        "ort_test_accuracy": round(ort_acc, 4),
        "ort_brevitas_argmax_agreement": round(agree, 4),
        "onnx_bytes": onnx_path.stat().st_size,
        "versions": {
            "torch": torch.__version__,
            "brevitas": brevitas_version,
            "onnxruntime": ort.__version__,
        },
    }
    (HERE / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    print(json.dumps(metrics, indent=1))


if __name__ == "__main__":
    main()
