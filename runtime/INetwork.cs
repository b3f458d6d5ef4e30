using System;
using System.Collections.Generic;

namespace GraphGen;

/// <summary>Which vector width the generated kernels run with.</summary>
public enum SimdPath
{
    /// <summary>The widest accelerated: Vector512, then Vector256, then Vector128, then scalar.</summary>
    Auto = 0,
    /// <summary>16 lanes (AVX-512). Forced, it runs in software where not accelerated: slow but exact.</summary>
    Vector512 = 512,
    /// <summary>8 lanes (AVX2).</summary>
    Vector256 = 256,
    /// <summary>4 lanes (SSE / NEON).</summary>
    Vector128 = 128,
    /// <summary>1 lane, no SIMD.</summary>
    Scalar = 1,
}

/// <summary>How a compiled network is instantiated.</summary>
public sealed class NetworkOptions
{
    /// <summary>Seed of the Xavier initialization.</summary>
    public int Seed { get; init; }
    /// <summary>Largest training batch (inference takes any number of samples). Default 256.</summary>
    public int MaxBatch { get; init; } = 256;
    /// <summary>Threads used by a step, the caller's included (1 to 1024). Default: all processors.
    /// More than <see cref="Environment.ProcessorCount"/> are used only with <see cref="Oversubscribe"/>;
    /// otherwise the network runs on that many (see <see cref="INetwork.Threads"/>). Where threads cannot be
    /// started (WebAssembly in the browser or WASI) a network runs on the calling thread whatever this says.
    /// Results are bit-identical for every thread count.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
    /// <summary>Run <see cref="Threads"/> threads even where that is more than the processors
    /// (default false: never more threads than processors, which only slows a step down).</summary>
    public bool Oversubscribe { get; init; }
    /// <summary>Vector width; <see cref="SimdPath.Auto"/> picks the widest accelerated one.</summary>
    public SimdPath Simd { get; init; } = SimdPath.Auto;
}

/// <summary>Outcome of one training step.</summary>
/// <param name="LossSum">Sum over the batch of each sample's softmax cross-entropy.</param>
/// <param name="Correct">Samples whose arg-max logit is the label.</param>
/// <param name="Count">Samples in the batch.</param>
/// <param name="ParametersFinite">False if the step left a NaN or ±∞ in any tensor it writes: a
/// parameter or a batch-norm moving statistic.</param>
public readonly record struct StepResult(double LossSum, int Correct, int Count, bool ParametersFinite)
{
    /// <summary>Mean loss of the batch.</summary>
    public double MeanLoss => LossSum / Count;
    /// <summary>True when the loss and every tensor the step wrote are finite.</summary>
    public bool IsFinite => double.IsFinite(LossSum) && ParametersFinite;
}

/// <summary>One layer as the generator saw it, with its inferred shapes (per sample, no batch axis).</summary>
public sealed record LayerInfo(
    string Name, LayerKind Kind, int[] InputShape, int[] OutputShape,
    int Outputs = 0, int Kernel = 0, int Stride = 0, int Padding = 0,
    double Epsilon = 0, double Momentum = 0)
{
    /// <summary>Kernel columns of a <see cref="LayerKind.Conv2D"/>; <see cref="Kernel"/> is its rows (and
    /// both where not set: a square kernel).</summary>
    public int KernelWidth { get => _kernelWidth != 0 ? _kernelWidth : Kernel; init => _kernelWidth = value; }
    private readonly int _kernelWidth;

    /// <summary>Column step of a <see cref="LayerKind.Conv2D"/>; <see cref="Stride"/> is its row step (and both where not set).</summary>
    public int StrideWidth { get => _strideWidth != 0 ? _strideWidth : Stride; init => _strideWidth = value; }
    private readonly int _strideWidth;

    /// <summary>Zero columns on the left and right of a <see cref="LayerKind.Conv2D"/>'s input; <see cref="Padding"/>
    /// is its zero rows above and below (and both where not set).</summary>
    public int PaddingWidth { get => _paddingWidth ?? Padding; init => _paddingWidth = value; }
    private readonly int? _paddingWidth;

    /// <summary>Channel groups of a <see cref="LayerKind.Conv2D"/> (default 1): filter f reads only the input
    /// channels of group f / (Outputs / Groups), so its weights are Outputs × InputShape[0]/Groups × Kernel × KernelWidth.</summary>
    public int Groups { get; init; } = 1;

    /// <summary>The negative-input slope of a <see cref="LayerKind.LeakyReLU"/>.</summary>
    public double Slope { get; init; }

    /// <summary>The probability that a <see cref="LayerKind.Dropout"/> zeroes a value in training.</summary>
    public double Rate { get; init; }

    /// <summary>Names of the layer's tensors in the checkpoint (weights first).</summary>
    public string[] Tensors { get; init; } = [];

    /// <summary>What the layer reads, in order: the names of earlier layers, or <see cref="NetworkInput"/>.
    /// A chain layer has one input; an <see cref="LayerKind.Add"/> has two (main path, shortcut); a
    /// <see cref="LayerKind.Concat"/> one per branch, in order. Empty
    /// means "the layer before it" (or the network input for the first layer).</summary>
    public string[] Inputs { get; init; } = [];

    /// <summary>The name under which <see cref="Inputs"/> refers to the network's input.</summary>
    public const string NetworkInput = "input";
}

/// <summary>Whether a tensor is trained, is state of the network (moving statistics) or is state of its optimizer.</summary>
public enum TensorKind
{
    /// <summary>Trained: has a gradient.</summary>
    Parameter,
    /// <summary>Updated by the forward pass in training (batch-norm moving statistics).</summary>
    State,
    /// <summary>Held by a <see cref="Training.Optimizer"/>, not by the network: moments and the step count
    /// (see <see cref="Training.Optimizer.State"/>); saved in checkpoints next to the network's tensors.</summary>
    OptimizerState,
}

/// <summary>A named tensor of a network: PyTorch layout (conv O×I×kH×kW, dense out×in).</summary>
public sealed record TensorInfo(string Name, int[] Shape, TensorKind Kind)
{
    /// <summary>Number of elements.</summary>
    public int Length
    {
        get { int n = 1; foreach (int d in Shape) n *= d; return n; }
    }
}

/// <summary>
/// What every generated network implements. Thread safety: any number of threads may call
/// <see cref="Infer(ReadOnlySpan{float}, Span{float})"/> at once and get the same answers as sequential
/// calls. A training step needs the network alone: starting one while another training step or an
/// inference call runs, or starting an inference call during a training step, throws
/// <see cref="InvalidOperationException"/>. Writing through <see cref="Tensor"/> (or loading a checkpoint)
/// concurrently with anything else is not supported.
/// </summary>
public interface INetwork : IDisposable
{
    /// <summary>The class name.</summary>
    string Name { get; }
    /// <summary>Shape of one sample: [C, H, W] or [features].</summary>
    IReadOnlyList<int> InputShape { get; }
    /// <summary>Floats per sample.</summary>
    int InputSize { get; }
    /// <summary>Logits per sample.</summary>
    int Classes { get; }
    /// <summary>Largest training batch.</summary>
    int MaxBatch { get; }
    /// <summary>Threads used per step: <see cref="NetworkOptions.Threads"/>, at most the processor
    /// count unless <see cref="NetworkOptions.Oversubscribe"/> is set, and 1 on WebAssembly.</summary>
    int Threads { get; }
    /// <summary>The vector width in use.</summary>
    SimdPath Simd { get; }
    /// <summary>The layers, in order.</summary>
    IReadOnlyList<LayerInfo> Layers { get; }
    /// <summary>Every parameter and state tensor, in checkpoint order.</summary>
    IReadOnlyList<TensorInfo> Tensors { get; }

    /// <summary>The values of a tensor (writable: writing invalidates folded inference weights).</summary>
    Span<float> Tensor(string name);
    /// <summary>The gradient of a parameter from the last training step (of the mean loss).</summary>
    ReadOnlySpan<float> Gradient(string name);

    /// <summary>One training step on a batch: forward in training mode, softmax cross-entropy averaged over the
    /// batch, backward, moving-statistics update, and the parameter update by the network's
    /// <see cref="Training.Optimizer"/> (plain SGD, w −= lr·g, when none is attached) with this learning rate.</summary>
    StepResult TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, float learningRate);
    /// <summary>As <see cref="TrainStep(ReadOnlySpan{float}, ReadOnlySpan{int}, float)"/> with byte pixels, each divided by 255.</summary>
    StepResult TrainStep(ReadOnlySpan<byte> pixels, ReadOnlySpan<int> labels, float learningRate);

    /// <summary>Logits for any number of samples, in inference mode (moving statistics).</summary>
    void Infer(ReadOnlySpan<float> inputs, Span<float> logits);
    /// <summary>As <see cref="Infer(ReadOnlySpan{float}, Span{float})"/> with byte pixels, each divided by 255.</summary>
    void Infer(ReadOnlySpan<byte> pixels, Span<float> logits);

    /// <summary>After a step whose result was not finite: the first layer, in execution order,
    /// whose forward output or backward gradient holds a NaN or ±∞, or null if none does.</summary>
    string? FindNonFinite();

    /// <summary>Each layer's name and output shape, like the d2l notebook's shape printout.</summary>
    string Summary();

    /// <summary>Wall time spent in each phase of the training steps since the last
    /// <see cref="ResetPhaseTimes"/>: where a step's time goes, layer by layer.</summary>
    IReadOnlyList<PhaseTime> PhaseTimes { get; }

    /// <summary>Zeroes <see cref="PhaseTimes"/>.</summary>
    void ResetPhaseTimes();
}

/// <summary>Time spent in one phase of the training step (a fused group of layer operations).</summary>
public readonly record struct PhaseTime(string Phase, TimeSpan Total);
