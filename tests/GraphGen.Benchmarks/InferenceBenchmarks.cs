using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using GraphGen.Onnx;
using GraphGen.Samples;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GraphGen.Benchmarks;

/// <summary>
/// Inference of 256 images in one call, GraphGen's compiled network against ONNX Runtime running the
/// same network exported with OnnxExporter, in the same process and with the same thread count.
/// </summary>
[MemoryDiagnoser]
public class InferenceBenchmark
{
    private LeNet _net = null!;
    private InferenceSession _onnx = null!;
    private float[] _inputs = null!;
    private float[] _logits = null!;
    private DenseTensor<float> _tensor = null!;

    [Params(1, 2)] public int Threads;

    [GlobalSetup]
    public void Setup()
    {
        _net = new LeNet(new NetworkOptions { Seed = 1, Threads = Threads });
        var data = BenchData.Test(256);
        _inputs = new float[256 * 784];
        for (int i = 0; i < _inputs.Length; i++) _inputs[i] = data.Pixels[i] / 255f;
        _logits = new float[256 * 10];
        var labels = data.Labels.ToArray();
        for (int i = 0; i < 10; i++) _net.TrainStep(_inputs, labels, 0.1f); // non-trivial statistics
        var options = new SessionOptions { IntraOpNumThreads = Threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        _onnx = new InferenceSession(OnnxExporter.Export(_net), options);
        _tensor = new DenseTensor<float>(_inputs, new[] { 256, 1, 28, 28 });
    }

    [Benchmark(Baseline = true, Description = "GraphGen, batch 256")]
    public float GraphGen()
    {
        _net.Infer(_inputs, _logits);
        return _logits[0];
    }

    [Benchmark(Description = "ONNX Runtime 1.31, batch 256")]
    public float OnnxRuntime()
    {
        using var results = _onnx.Run(new List<NamedOnnxValue> { NamedOnnxValue.CreateFromTensor("input", _tensor) });
        foreach (var r in results) return r.AsTensor<float>()[0, 0];
        return 0;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _net.Dispose();
        _onnx.Dispose();
    }
}
