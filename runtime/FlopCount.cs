using System;
using System.Collections.Generic;

namespace GraphGen;

/// <summary>
/// Floating-point operations per sample of a network's convolutions and dense layers, counted from
/// the layer shapes, a multiply-add being two. Batch norm, activations, pooling, adds, bias adds and the
/// loss are not counted: they are a small share of the work and not multiply-adds, so GFLOP/s from
/// these counts compare directly with an FMA ceiling. For LeNet-BN: 563,280 forward and 1,517,040 for a
/// training step.
/// </summary>
public static class FlopCount
{
    /// <summary>Operations of one sample's forward pass: 2 × the multiply-adds of every convolution
    /// (output channels × output positions × input channels per group × kernel rows × kernel columns) and dense layer
    /// (inputs × outputs).</summary>
    public static long Forward(INetwork network) => Forward(LayersOf(network));

    /// <summary>As <see cref="Forward(INetwork)"/>, for a list of layers.</summary>
    public static long Forward(IReadOnlyList<LayerInfo> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        long sum = 0;
        foreach (LayerInfo layer in layers) sum = checked(sum + 2 * MultiplyAdds(layer));
        return sum;
    }

    /// <summary>Operations of one sample's training step: the forward pass, each weight gradient (as many
    /// as the forward pass) and each input gradient that the backward pass needs (as many again). An input
    /// gradient is needed, as the generated code decides it, when some layer on a path from the network's
    /// input to the layer's input has parameters; so the first convolution, or one that reads only the
    /// pooled input, computes none.</summary>
    public static long TrainingStep(INetwork network) => TrainingStep(LayersOf(network));

    /// <summary>As <see cref="TrainingStep(INetwork)"/>, for a list of layers in execution order.</summary>
    public static long TrainingStep(IReadOnlyList<LayerInfo> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        // Whether a value's gradient is needed: a layer with parameters produces it or lies upstream of it.
        var trainsUpstream = new Dictionary<string, bool> { [LayerInfo.NetworkInput] = false };
        long sum = 0;
        for (int i = 0; i < layers.Count; i++)
        {
            LayerInfo layer = layers[i];
            string[] inputs = layer.Inputs.Length > 0 ? layer.Inputs : [i == 0 ? LayerInfo.NetworkInput : layers[i - 1].Name];
            bool needsInputGradient = false;
            foreach (string input in inputs)
                needsInputGradient |= trainsUpstream.TryGetValue(input, out bool trains) ? trains
                    : throw new ArgumentException($"Layer '{layer.Name}' reads '{input}', which is neither the network input nor an earlier layer.", nameof(layers));
            long passes = needsInputGradient ? 3 : 2;
            sum = checked(sum + passes * 2 * MultiplyAdds(layer));
            trainsUpstream[layer.Name] = needsInputGradient || layer.Kind is LayerKind.Conv2D or LayerKind.Dense or LayerKind.BatchNorm;
        }
        return sum;
    }

    private static IReadOnlyList<LayerInfo> LayersOf(INetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        return network.Layers;
    }

    private static long MultiplyAdds(LayerInfo layer) => layer.Kind switch
    {
        // Each output reads the input channels of its group only, through a Kernel × KernelWidth window.
        LayerKind.Conv2D when layer.InputShape.Length == 3 && layer.OutputShape.Length == 3 =>
            checked(Elements(layer.OutputShape) * (layer.InputShape[0] / Math.Max(1, layer.Groups)) * layer.Kernel * layer.KernelWidth),
        LayerKind.Dense => checked(Elements(layer.InputShape) * layer.Outputs),
        LayerKind.Conv2D => throw new ArgumentException($"Convolution '{layer.Name}' has input shape [{string.Join(", ", layer.InputShape)}] and output shape [{string.Join(", ", layer.OutputShape)}]; both must be [channels, height, width]."),
        LayerKind.BatchNorm or LayerKind.Sigmoid or LayerKind.ReLU or LayerKind.Tanh or LayerKind.LeakyReLU or LayerKind.SiLU
            or LayerKind.MaxPool2D or LayerKind.AvgPool2D or LayerKind.GlobalAvgPool2D
            or LayerKind.Add or LayerKind.Concat or LayerKind.Dropout => 0,
        // A kind added later must say here what it costs: counting it as
        // free would overstate every GFLOP/s figure computed from these counts.
        _ => throw new NotSupportedException($"FlopCount does not know how to count layer '{layer.Name}' of kind {layer.Kind}."),
    };

    private static long Elements(int[] shape)
    {
        long n = 1;
        foreach (int d in shape) n = checked(n * d);
        return n;
    }
}
