// Shared with the generator: this file is compiled into GraphGen.Runtime (namespace GraphGen) and
// linked into GraphGen.Generator (namespace GraphGen.Generator.Model), so the kinds exist once.
#if GRAPHGEN_GENERATOR
namespace GraphGen.Generator.Model;
#else
namespace GraphGen;
#endif

/// <summary>The kinds of layer the attribute language has.</summary>
public enum LayerKind
{
    /// <summary>[Conv2D]</summary>
    Conv2D,
    /// <summary>[Dense]</summary>
    Dense,
    /// <summary>[BatchNorm]</summary>
    BatchNorm,
    /// <summary>[Sigmoid]</summary>
    Sigmoid,
    /// <summary>[ReLU]</summary>
    ReLU,
    /// <summary>[Tanh]</summary>
    Tanh,
    /// <summary>[MaxPool2D]</summary>
    MaxPool2D,
    /// <summary>[AvgPool2D]</summary>
    AvgPool2D,
    /// <summary>[GlobalAvgPool2D]: the mean over H×W of each channel, C×H×W → C×1×1.</summary>
    GlobalAvgPool2D,
    /// <summary>The elementwise sum that closes a [Residual] block: main path + shortcut.</summary>
    Add,
    /// <summary>The concatenation along channels (features, for flat values) that closes a [Concat] block.</summary>
    Concat,
    /// <summary>[LeakyReLU]: x for x &gt; 0, else Slope·x.</summary>
    LeakyReLU,
    /// <summary>[SiLU] (swish): x·σ(x).</summary>
    SiLU,
    /// <summary>[Dropout]: in training, each value is kept with probability 1 − Rate and scaled by
    /// 1/(1 − Rate), else zeroed; the identity in inference.</summary>
    Dropout,
}
