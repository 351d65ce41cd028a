"""Run a QONNX model with the qonnx reference executor.

usage: qonnx_exec.py MODEL.onnx INPUT.npy OUTPUT.npy
Writes graph output 0 to OUTPUT.npy.
"""
import sys

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx

model_path, input_path, output_path = sys.argv[1:4]
model = ModelWrapper(model_path)
x = np.load(input_path)
name_in = model.graph.input[0].name
name_out = model.graph.output[0].name
out = execute_onnx(model, {name_in: x})[name_out]
np.save(output_path, np.asarray(out, dtype=np.float32))
