using System.Text.RegularExpressions;

namespace GraphGen.Generator.Parsing;

/// <summary>The member names the emitter gives the network class: its public API, its private
/// phases and kernels, and its fields. A class cannot contain a member with its own name (CS0542),
/// so a network class may not be called any of these, and a member the user writes in the class may
/// not have one of them either (CS0102 or CS0111 in the generated file otherwise). GeneratedNamesTests
/// checks every member of the generated baselines against this list.</summary>
internal static class GeneratedNames
{
    private static readonly Regex Pattern = new(
        "^(Name|InputShape|InputSize|Classes|MaxBatch|Threads|Simd|Layers|Tensors|Tensor|Gradient|TrainStep|Infer|FindNonFinite|Summary|PhaseTimes|ResetPhaseTimes|Dispose|NotGenerated" +
        "|Train\\d*|Update|Fold|InferPhase|InferChunk|At|Ref|Slot|GraphGenBuffers|GraphGenWorkspace" +
        "|(Conv|Dense)\\d+(Forward|Weights|InputGrad|InferPooled)(Group)?|G\\d+(Post|PostBack|BatchNormBack|Stats)" +
        "|_(core|simd|arena|buf|ones|zeros|labels|chunkLoss|chunkCorrect|infer|fold|newWorkspace|batch|chunks|inferCount|invBatch|learningRate)" +
        "|_train\\d+|_dropout\\d+(_step)?|_(conv|dense|batchnorm)\\d+(_(weight|bias|gamma|beta|moving_mean|moving_var)(_grad|_folded)?)?|s_(inputShape|layers|tensors)(View)?)$",
        RegexOptions.CultureInvariant);

    /// <summary>True when the generated network class has (or may have) a member called <paramref name="name"/>.</summary>
    public static bool Collides(string name) => Pattern.IsMatch(name);
}
