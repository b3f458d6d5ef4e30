using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using GraphGen.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace GraphGen.Tests.Generator;

/// <summary>
/// One mistake a user can make, the source that makes it, and the one diagnostic GraphGen must
/// answer with. The source marks the expected span with <c>[|…|]</c> (in exactly one of its files).
/// </summary>
/// <param name="Name">Test case name.</param>
/// <param name="Id">Expected diagnostic ID.</param>
/// <param name="Severity">Expected severity.</param>
/// <param name="Message">Exact expected message.</param>
/// <param name="Sources">The source files, with one <c>[|…|]</c> marker among them.</param>
/// <param name="CompilerErrors">C# errors the mistake itself causes (e.g. CS0592 for [Network] on a struct).</param>
/// <param name="IgnoreDigitGrouping">Compare the message without thousands separators.</param>
public sealed record DiagnosticCase(
    string Name, string Id, DiagnosticSeverity Severity, string Message, string[] Sources,
    string[]? CompilerErrors = null, bool IgnoreDigitGrouping = false)
{
    public override string ToString() => Name;
}

public sealed class DiagnosticsTests
{
    private const string Header = "using GraphGen;\n\nnamespace App;\n\n";

    private const string ImageInput = "[Network(Channels = 1, Height = 8, Width = 8)]";

    private static DiagnosticCase Error(string name, string id, string message, params string[] sources) =>
        new(name, id, DiagnosticSeverity.Error, message, sources.Select(s => Header + s).ToArray());

    private static DiagnosticCase Warning(string name, string id, string message, params string[] sources) =>
        new(name, id, DiagnosticSeverity.Warning, message, sources.Select(s => Header + s).ToArray());

    private const string KindMessage = "; a network must be a non-static, non-abstract class (not a struct, record or interface)";

    public static readonly DiagnosticCase[] Cases =
    {
        // ---- GG0001–GG0006: the declaration
        Error("NotPartial", "GG0001",
            "'Net' has [Network] but is not declared partial; add the 'partial' modifier so GraphGen can add the generated members",
            "[Network(Features = 4)] [Dense(3)]\npublic class [|Net|] { }\n"),
        Error("Generic", "GG0002",
            "'Net' is generic; GraphGen compiles one fixed network per class, so remove the type parameters",
            "[Network(Features = 4)] [Dense(3)]\npublic partial class [|Net|]<T> { }\n"),
        Error("NestedInGeneric", "GG0002",
            "'Net' is nested in the generic type 'Outer<T>'; GraphGen compiles one fixed network per class, so move it out of 'Outer<T>'",
            "public partial class Outer<T>\n{\n    [Network(Features = 4)] [Dense(3)]\n    public partial class [|Net|] { }\n}\n"),
        Error("NestedInNonPartial", "GG0003",
            "'Net' is nested in 'Outer', which is not partial; make every containing type partial",
            "public class [|Outer|]\n{\n    [Network(Features = 4)] [Dense(3)]\n    public partial class Net { }\n}\n"),
        Error("NestedTwiceInnerNonPartial", "GG0003",
            "'Net' is nested in 'Middle', which is not partial; make every containing type partial",
            "public partial class Outer\n{\n    public class [|Middle|]\n    {\n        [Network(Features = 4)] [Dense(3)]\n        public partial class Net { }\n    }\n}\n"),
        Error("Struct", "GG0004", "'Net' is a struct" + KindMessage,
            "[Network(Features = 4)] [Dense(3)]\npublic partial struct [|Net|] { }\n") with { CompilerErrors = new[] { "CS0592" } },
        Error("RecordStruct", "GG0004", "'Net' is a record struct" + KindMessage,
            "[Network(Features = 4)] [Dense(3)]\npublic partial record struct [|Net|] { }\n") with { CompilerErrors = new[] { "CS0592" } },
        Error("Record", "GG0004", "'Net' is a record" + KindMessage,
            "[Network(Features = 4)] [Dense(3)]\npublic partial record [|Net|] { }\n"),
        Error("Static", "GG0004", "'Net' is a static class" + KindMessage,
            "[Network(Features = 4)] [Dense(3)]\npublic static partial class [|Net|] { }\n"),
        Error("Abstract", "GG0004", "'Net' is an abstract class" + KindMessage,
            "[Network(Features = 4)] [Dense(3)]\npublic abstract partial class [|Net|] { }\n"),
        Error("Interface", "GG0004", "'Net' is an interface" + KindMessage,
            "[Network(Features = 4)] [Dense(3)]\npublic partial interface [|Net|] { }\n") with { CompilerErrors = new[] { "CS0592" } },
        Error("NoLayers", "GG0005",
            "'Net' has no layer attributes; list its layers after [Network], e.g. [Conv2D(6, Kernel = 5)] [Sigmoid] [Dense(10)]",
            "[Network(Features = 4)]\npublic partial class [|Net|] { }\n"),
        Error("LayersSplit", "GG0006",
            "The layers of 'Net' are spread over several partial declarations, so their order is undefined; put all layer attributes on one declaration",
            "[Network(Features = 4)] [Dense(8)]\npublic partial class Net { }\n\n[[|ReLU|]] [Dense(3)]\npublic partial class Net { }\n"),
        Error("LayersSplitOverFiles", "GG0006",
            "The layers of 'Net' are spread over several partial declarations, so their order is undefined; put all layer attributes on one declaration",
            "[Network(Features = 4)] [Dense(8)]\npublic partial class Net { }\n",
            "[[|Dense(3)|]]\npublic partial class Net { }\n"),

        // ---- GG0007: the input
        Error("InputMissing", "GG0007",
            "[Network] needs an input shape: Channels, Height and Width for images, or Features for flat vectors, e.g. [Network(Channels = 1, Height = 28, Width = 28)]",
            "[[|Network|]] [Dense(3)]\npublic partial class Net { }\n"),
        Error("InputConflicting", "GG0007",
            "[Network] gives both Features and Channels/Height/Width; use Features for a flat input or Channels, Height and Width for an image",
            "[Network(Channels = 1, Height = 4, Width = 4, [|Features = 16|])] [Dense(3)]\npublic partial class Net { }\n"),
        Error("InputNegativeFeatures", "GG0007",
            "[Network] Features = -3 must be positive",
            "[Network([|Features = -3|])] [Dense(3)]\npublic partial class Net { }\n"),
        Error("InputMissingChannels", "GG0007",
            "[Network] needs Channels for an image input (Channels, Height and Width are all required)",
            "[[|Network(Height = 4, Width = 4)|]] [Dense(3)]\npublic partial class Net { }\n"),
        Error("InputNegativeHeight", "GG0007",
            "[Network] Height = -2 must be positive",
            "[Network(Channels = 1, [|Height = -2|], Width = 4)] [Dense(3)]\npublic partial class Net { }\n"),
        Error("InputZeroWidth", "GG0007",
            "[Network] Width = 0 must be positive",
            "[Network(Channels = 1, Height = 4, [|Width = 0|])] [Dense(3)]\npublic partial class Net { }\n"),
        Error("InputZeroChannels", "GG0007",
            "[Network] Channels = 0 must be positive",
            "[Network([|Channels = 0|], Height = 28, Width = 28)] [Dense(3)]\npublic partial class Net { }\n"),
        Error("InputOnlyZeroChannels", "GG0007",
            "[Network] Channels = 0 must be positive",
            "[Network([|Channels = 0|])] [Dense(3)]\npublic partial class Net { }\n"),
        Error("InputZeroFeatures", "GG0007",
            "[Network] Features = 0 must be positive",
            "[Network([|Features = 0|])] [Dense(3)]\npublic partial class Net { }\n"),
        Error("InputAbsurdImage", "GG0007",
            "[Network] input of 1000x1000x1000 = 1,000,000,000 values per sample is larger than GraphGen supports (16,777,216)",
            "[[|Network(Channels = 1000, Height = 1000, Width = 1000)|]] [Dense(3)]\npublic partial class Net { }\n") with { IgnoreDigitGrouping = true },
        Error("InputAbsurdFeatures", "GG0007",
            "[Network] Features = 20,000,000 is larger than GraphGen supports (16,777,216 values per sample)",
            "[Network([|Features = 20_000_000|])] [Dense(3)]\npublic partial class Net { }\n") with { IgnoreDigitGrouping = true },

        // ---- GG0008: layers without [Network] (once per class, however many layer attributes)
        Error("LayersWithoutNetwork", "GG0008",
            "'Net' has layer attributes but no [Network] attribute, so no network is generated and code that uses it as one does not compile; add [Network(...)] with the input shape",
            "[Conv2D(6, Kernel = 5)] [BatchNorm] [ReLU] [MaxPool2D(2)] [Dense(10)]\npublic partial class [|Net|] { }\n"),
        Error("LayersWithoutNetworkOverFiles", "GG0008",
            "'Net' has layer attributes but no [Network] attribute, so no network is generated and code that uses it as one does not compile; add [Network(...)] with the input shape",
            "[Dense(10)] [ReLU]\npublic partial class [|Net|] { }\n",
            "[Sigmoid] [Dense(3)]\npublic partial class Net { }\n"),

        // ---- GG0009: names and constructors the generated code needs
        Error("PrimaryConstructor", "GG0009",
            "'Net' has a primary constructor, but GraphGen generates the network's constructors (seed or NetworkOptions); remove the parameter list",
            "[Network(Features = 4)] [Dense(3)]\npublic partial class [|Net|](int size) { public int Size => size; }\n"),
        Error("NamedLikeAGeneratedMember", "GG0009",
            "'Infer' is the name of a member that GraphGen generates in the network class (a class cannot contain a member with its own name); rename the class",
            "[Network(Features = 4)] [Dense(3)]\npublic partial class [|Infer|] { }\n"),
        Error("ParameterlessConstructor", "GG0009",
            "'Net()' is a constructor written in the network class, but GraphGen generates the network's constructors (seed or NetworkOptions) and one of yours would leave the network uninitialized; remove it (a static factory method can add set-up code)",
            "[Network(Features = 4)] [Dense(3)]\npublic partial class Net\n{\n    public [|Net|]() { }\n}\n"),
        Error("ConstructorWithParameters", "GG0009",
            "'Net(int, string?)' is a constructor written in the network class, but GraphGen generates the network's constructors (seed or NetworkOptions) and one of yours would leave the network uninitialized; remove it (a static factory method can add set-up code)",
            "[Network(Features = 4)] [Dense(3)]\npublic partial class Net { }\n",
            "public partial class Net\n{\n    internal [|Net|](int size, string? name) { }\n}\n"),
        Error("PropertyNamedLikeAGeneratedMember", "GG0009",
            "'Name' is the name of a member that GraphGen generates in 'Net'; rename this member",
            "[Network(Features = 4)] [Dense(3)]\npublic partial class Net\n{\n    public string [|Name|] => \"mine\";\n}\n"),
        Error("MethodNamedLikeAGeneratedMember", "GG0009",
            "'TrainStep' is the name of a member that GraphGen generates in 'Net'; rename this member",
            "[Network(Features = 4)] [Dense(3)]\npublic partial class Net\n{\n    public void [|TrainStep|](int steps) { }\n}\n"),
        Error("FieldNamedLikeTheFacadeField", "GG0009",
            "'_graphGen' is the name of a member that GraphGen generates in 'Net'; rename this member",
            "[Network(Features = 4)] [Dense(3)]\npublic partial class Net\n{\n    internal int Count, [|_graphGen|];\n}\n"),
        Error("NestedTypeNamedLikeAGeneratedMember", "GG0009",
            "'Summary' is the name of a member that GraphGen generates in 'Net'; rename this member",
            "[Network(Features = 4)] [Dense(3)]\npublic partial class Net\n{\n    public sealed class [|Summary|] { }\n}\n"),
        Error("NamedLikeTheFacadeField", "GG0009",
            "'_graphGen' is the name of a member that GraphGen generates in the network class (a class cannot contain a member with its own name); rename the class",
            "[Network(Features = 4)] [Dense(3)]\npublic partial class [|_graphGen|] { }\n"),

        // ---- GG0010: windows
        Error("KernelLargerThanInput", "GG0010",
            "conv1 [Conv2D] has a 5x5 window but its input is 1x4x4; the window must fit inside the input",
            "[Network(Channels = 1, Height = 4, Width = 4)] [Conv2D(2, [|Kernel = 5|])] [Dense(3)]\npublic partial class Net { }\n"),
        Error("KernelLargerThanPaddedInput", "GG0010",
            "conv1 [Conv2D] has a 9x9 window but its input is 1x4x6 (padded to 8x10); the window must fit inside the input",
            "[Network(Channels = 1, Height = 4, Width = 6)] [Conv2D(2, [|9|], Padding = 2)] [Dense(3)]\npublic partial class Net { }\n"),
        Error("PoolLargerThanInput", "GG0010",
            "maxpool1 [MaxPool2D] has a 4x4 window but its input is 2x3x8; the window must fit inside the input",
            "[Network(Channels = 2, Height = 3, Width = 8)] [MaxPool2D([|4|])] [Dense(3)]\npublic partial class Net { }\n"),
        Error("PoolLargerThanConvOutput", "GG0010",
            "avgpool1 [AvgPool2D] has a 3x3 window but its input is 4x2x2; the window must fit inside the input",
            "[Network(Channels = 1, Height = 4, Width = 4)] [Conv2D(4, Kernel = 3)] [ReLU] [AvgPool2D([|3|])] [Dense(3)]\npublic partial class Net { }\n"),

        // ---- GG0011: stride and padding
        Error("ConvStrideZero", "GG0011",
            "conv1 [Conv2D]: Stride = 0 must be at least 1",
            ImageInput + " [Conv2D(2, Kernel = 3, [|Stride = 0|])] [Dense(3)]\npublic partial class Net { }\n"),
        Error("ConvNegativePadding", "GG0011",
            "conv1 [Conv2D]: Padding = -1 must not be negative (Conv2DAttribute.Same asks for \"same\" padding)",
            ImageInput + " [Conv2D(2, Kernel = 3, [|Padding = -1|])] [Dense(3)]\npublic partial class Net { }\n"),
        Error("ConvPaddingNotSmallerThanKernel", "GG0011",
            "conv1 [Conv2D]: Padding = 3 must be smaller than the kernel (3); wider padding only adds outputs that see nothing but zeros",
            ImageInput + " [Conv2D(2, Kernel = 3, [|Padding = 3|])] [Dense(3)]\npublic partial class Net { }\n"),
        Error("PoolNegativeStride", "GG0011",
            "maxpool1 [MaxPool2D]: Stride = -1 must be at least 1 (leave it out to use the window size)",
            ImageInput + " [MaxPool2D(2, [|Stride = -1|])] [Dense(3)]\npublic partial class Net { }\n"),

        // ---- GG0012: sizes
        Error("ZeroFilters", "GG0012", "conv1 [Conv2D]: Filters = 0 must be positive",
            ImageInput + " [Conv2D([|0|], Kernel = 3)] [Dense(3)]\npublic partial class Net { }\n"),
        Error("ZeroUnits", "GG0012", "dense2 [Dense]: Units = 0 must be positive",
            "[Network(Features = 4)] [Dense(8)] [ReLU] [Dense([|0|])]\npublic partial class Net { }\n"),
        Error("NegativeUnitsNamedColon", "GG0012", "dense1 [Dense]: Units = -5 must be positive",
            "[Network(Features = 4)] [Dense([|units: -5|])] [Dense(3)]\npublic partial class Net { }\n"),
        Error("NegativeKernel", "GG0012", "conv1 [Conv2D]: Kernel = -1 must be positive",
            ImageInput + " [Conv2D(2, [|Kernel = -1|])] [Dense(3)]\npublic partial class Net { }\n"),
        Error("ZeroPoolSize", "GG0012", "maxpool1 [MaxPool2D]: Size = 0 must be positive",
            ImageInput + " [MaxPool2D([|0|])] [Dense(3)]\npublic partial class Net { }\n"),
        Error("ZeroPoolSizeWithStride", "GG0012", "avgpool1 [AvgPool2D]: Size = 0 must be positive",
            ImageInput + " [AvgPool2D([|0|], Stride = 2)] [Dense(3)]\npublic partial class Net { }\n"),
        Error("NegativeBatchNormFeatures", "GG0012", "batchnorm1 [BatchNorm]: Features = -1 must be positive",
            "[Network(Features = 4)] [Dense(8)] [BatchNorm([|Features = -1|])] [Dense(3)]\npublic partial class Net { }\n"),

        // ---- GG0013: image layers after a flat one
        Error("ConvAfterDense", "GG0013",
            "conv1 [Conv2D] needs a 4-D (C x H x W) input, but dense1 [Dense] produces a flat vector of 10 features; image layers must come before the first Dense",
            ImageInput + " [Dense(10)] [[|Conv2D(2, Kernel = 3)|]] [Dense(3)]\npublic partial class Net { }\n"),
        Error("MaxPoolAfterDense", "GG0013",
            "maxpool1 [MaxPool2D] needs a 4-D (C x H x W) input, but relu1 [ReLU] produces a flat vector of 10 features; image layers must come before the first Dense",
            ImageInput + " [Dense(10)] [ReLU] [[|MaxPool2D(2)|]] [Dense(3)]\npublic partial class Net { }\n"),
        Error("ConvOnFlatInput", "GG0013",
            "conv1 [Conv2D] needs a 4-D (C x H x W) input, but the network's input is a flat vector of 16 features; give [Network] Channels, Height and Width instead of Features",
            "[Network(Features = 16)] [[|Conv2D(2, Kernel = 3)|]] [Dense(3)]\npublic partial class Net { }\n"),

        Error("PoolOnFlatInputAfterActivation", "GG0013",
            "maxpool1 [MaxPool2D] needs a 4-D (C x H x W) input, but the network's input is a flat vector of 16 features; give [Network] Channels, Height and Width instead of Features",
            "[Network(Features = 16)] [BatchNorm] [ReLU] [[|MaxPool2D(2)|]] [Dense(3)]\npublic partial class Net { }\n"),
        Error("GlobalAvgPoolAfterDense", "GG0013",
            "globalavgpool1 [GlobalAvgPool2D] needs a 4-D (C x H x W) input, but dense1 [Dense] produces a flat vector of 10 features; image layers must come before the first Dense",
            ImageInput + " [Dense(10)] [[|GlobalAvgPool2D|]] [Dense(3)]\npublic partial class Net { }\n"),
        Error("GlobalAvgPoolOnFlatInput", "GG0013",
            "globalavgpool1 [GlobalAvgPool2D] needs a 4-D (C x H x W) input, but the network's input is a flat vector of 16 features; give [Network] Channels, Height and Width instead of Features",
            "[Network(Features = 16)] [[|GlobalAvgPool2D|]] [Dense(3)]\npublic partial class Net { }\n"),
        // A Dense on a flat input flattens nothing: the input is what to fix, and its size is the input's.
        Error("ConvAfterDenseOnFlatInput", "GG0013",
            "conv1 [Conv2D] needs a 4-D (C x H x W) input, but the network's input is a flat vector of 16 features; give [Network] Channels, Height and Width instead of Features",
            "[Network(Features = 16)] [Dense(10)] [[|Conv2D(2, Kernel = 3)|]] [Dense(3)]\npublic partial class Net { }\n"),

        // ---- GG0015: a file-local class
        Error("FileLocal", "GG0015",
            "'Net' is a file-local type; GraphGen adds its members in a generated file, which cannot see a 'file' type, so remove the 'file' modifier (use 'internal' to hide the network from other assemblies)",
            "[Network(Features = 4)] [Dense(3)]\nfile partial class [|Net|] { }\n"),

        // ---- GG0014: missing argument
        Error("MissingKernel", "GG0014", "conv1 [Conv2D] needs a kernel size, e.g. [Conv2D(6, Kernel = 5)]",
            ImageInput + " [[|Conv2D(6)|]] [Dense(3)]\npublic partial class Net { }\n"),

        // ---- GG0020–GG0025: batch norm and the end of the network
        Error("BatchNormChannelMismatch", "GG0020",
            "batchnorm1 [BatchNorm] declares Features = 7, but its input (6x24x24, from conv1 [Conv2D]) has 6 channels",
            "[Network(Channels = 1, Height = 28, Width = 28)] [Conv2D(6, Kernel = 5)] [BatchNorm([|Features = 7|])] [Sigmoid] [Dense(10)]\npublic partial class Net { }\n"),
        Error("BatchNormFeatureMismatch", "GG0020",
            "batchnorm1 [BatchNorm] declares Features = 7, but its input (8, from dense1 [Dense]) has 8 features",
            "[Network(Features = 20)] [Dense(8)] [BatchNorm([|Features = 7|])] [ReLU] [Dense(3)]\npublic partial class Net { }\n"),
        Warning("TwoBatchNorms", "GG0021",
            "batchnorm2 [BatchNorm] directly follows batchnorm1 [BatchNorm]; normalizing an output that is already normalized only adds work",
            "[Network(Features = 6)] [Dense(5)] [BatchNorm] [[|BatchNorm|]] [ReLU] [Dense(3)]\npublic partial class Net { }\n"),
        Warning("ActivationLast", "GG0022",
            "The network ends in relu1 [ReLU]; the softmax cross-entropy expects raw logits, and squashing them slows or stops learning; end with Dense(classes)",
            "[Network(Features = 6)] [Dense(3)] [[|ReLU|]]\npublic partial class Net { }\n"),
        Error("OutputNotFlat", "GG0023",
            "The network's output is 2x6x6 after conv1 [Conv2D]; the softmax cross-entropy needs a flat vector of class scores, so end with Dense(classes)",
            ImageInput + " [[|Conv2D(2, Kernel = 3)|]]\npublic partial class Net { }\n"),
        Error("OutputNotFlatAfterActivation", "GG0023",
            "The network's output is 2x3x3 after relu1 [ReLU]; the softmax cross-entropy needs a flat vector of class scores, so end with Dense(classes)",
            ImageInput + " [Conv2D(2, Kernel = 3)] [MaxPool2D(2)] [[|ReLU|]]\npublic partial class Net { }\n"),
        Error("BatchNormEpsilonZero", "GG0024",
            "batchnorm1 [BatchNorm]: Epsilon = 0 must be positive and at most 1 (the usual value is 1e-5)",
            "[Network(Features = 6)] [Dense(5)] [BatchNorm([|Epsilon = 0|])] [Dense(3)]\npublic partial class Net { }\n"),
        Error("BatchNormMomentumAboveOne", "GG0024",
            "batchnorm1 [BatchNorm]: Momentum = 1.5 must be between 0 and 1 (moving = Momentum * moving + (1 - Momentum) * batch; the usual value is 0.9)",
            "[Network(Features = 6)] [Dense(5)] [BatchNorm([|Momentum = 1.5|])] [Dense(3)]\npublic partial class Net { }\n"),
        Warning("SingleClass", "GG0025",
            "The network ends with dense2 [Dense] output; a softmax over one class is always 1, so the loss is 0 and nothing trains",
            "[Network(Features = 6)] [Dense(4)] [ReLU] [[|Dense(1)|]]\npublic partial class Net { }\n"),

        // ---- GG0030: too large
        Error("TooManyParameters", "GG0030",
            "dense1 [Dense] makes the network 61,505,000,448 parameters, more than GraphGen allows (100,000,000); the program would allocate absurd memory at run time",
            "[Network(Channels = 3, Height = 64, Width = 64)] [Conv2D(16, Kernel = 3)] [[|Dense(1_000_000)|]]\npublic partial class Net { }\n") with { IgnoreDigitGrouping = true },
        Error("OutputTooLarge", "GG0030",
            "conv1 [Conv2D] makes an output of 40,000,000 values per sample (1000x200x200), more than GraphGen allows (16,777,216); the program would allocate absurd memory at run time",
            "[Network(Channels = 3, Height = 200, Width = 200)] [[|Conv2D(1000, Kernel = 1)|]] [Dense(10)]\npublic partial class Net { }\n") with { IgnoreDigitGrouping = true },

        Error("LeakyReLUSlopeNegative", "GG0026",
            "leakyrelu1 [LeakyReLU]: Slope = -0.2 must be at least 0 and less than 1 (the usual value is 0.01); a negative slope is not monotonic and 1 is the identity",
            "[Network(Features = 6)] [Dense(5)] [LeakyReLU([|-0.2|])] [Dense(3)]\npublic partial class Net { }\n"),
        // ---- GG0032: the arena at the default MaxBatch does not fit in one array. The example of
        // issue 12: per image, X 150,528 + Y 1 + padded input 153,228 + conv1 output and its gradient
        // 2 x 3,211,264 + pooled output, arg-max and gradient 3 x 802,816 + BN partials 192 + 128 +
        // dense1 output and gradient 2 x 10 = 9,135,073 floats, and the conv1 weight-gradient tile
        // 1,792 per chunk. Scalar (each buffer aligned to 16 floats per image: +15 +4 +6 +6):
        // 256 x 9,136,896 = 2,339,045,376, the largest path. Vector512: 16 x 9,135,073 + 1,792 =
        // 146,162,960 per chunk of 16; 2,147,483,559 / 146,162,960 = 14 chunks = 224 images (Vector256:
        // 29 x 8 = 232, Vector128: 58 x 4 = 232, Scalar: 235).
        Warning("ArenaTooLarge", "GG0032",
            "'Big' needs an arena (activation memory) of up to 2,339,045,376 floats at the default MaxBatch = 256, more than one .NET array holds (2,147,483,559), so 'new Big()' would throw; set NetworkOptions.MaxBatch to 224 or less (the largest that fits on every SIMD path)",
            "[Network(Channels = 3, Height = 224, Width = 224)] [Conv2D(64, Kernel = 3, Padding = 1)] [BatchNorm] [ReLU] [MaxPool2D(2)] [Dense(10)]\npublic partial class [|Big|] { }\n"),
        // 4096 x 4096 = N = 16,777,216 values per image in nine buffers: the input, per conv its output and
        // activation, and two for the gradients (the buffer plan lets the three convs' output gradients
        // share one region and their activation gradients another): 16 x 9N + 128 = 2,415,919,232 floats
        // for one chunk of 16 (the 128: the labels, the dense output and its gradient, three weight-gradient slots).
        Warning("ArenaTooLargeForOneChunk", "GG0032",
            "'Huge' needs an arena (activation memory) of up to 38,654,707,712 floats at the default MaxBatch = 256, more than one .NET array holds (2,147,483,559), so 'new Huge()' would throw; even MaxBatch = 1 does not fit on the Vector512 path, whose chunk of 16 samples needs 2,415,919,232 floats; make the layers smaller or pass a narrower NetworkOptions.Simd",
            "[Network(Channels = 1, Height = 4096, Width = 4096)] [Conv2D(1, Kernel = 1)] [ReLU] [Conv2D(1, Kernel = 1)] [ReLU] [Conv2D(1, Kernel = 1)] [ReLU] [Dense(2)]\npublic partial class [|Huge|] { }\n"),

        Error("SamePaddingEvenKernel", "GG0011",
            "conv1 [Conv2D]: Padding = Same needs an odd kernel (it pads (Kernel - 1) / 2 on every side), but Kernel = 4; use an odd kernel or an explicit Padding",
            ImageInput + " [Conv2D(2, 4, [|Padding = Conv2DAttribute.Same|])] [Dense(3)]\npublic partial class Net { }\n"),
        Warning("BatchNormMomentumPyTorchStyle", "GG0028",
            "batchnorm1 [BatchNorm]: Momentum = 0.1 keeps only that much of the old moving statistics per step (moving = Momentum * moving + (1 - Momentum) * batch, as in MXNet and Keras); PyTorch's momentum is the other weight, so PyTorch's momentum 0.1 is Momentum = 0.9 here (the usual value is 0.9)",
            "[Network(Features = 6)] [Dense(5)] [BatchNorm([|Momentum = 0.1|])] [Dense(3)]\npublic partial class Net { }\n"),
        Error("DropoutRateOne", "GG0027",
            "dropout1 [Dropout]: Rate = 1 must be at least 0 and less than 1 (the probability that a value is zeroed in training; 0.1 to 0.5 is usual)",
            "[Network(Features = 6)] [Dense(5)] [Dropout([|1.0|])] [Dense(3)]\npublic partial class Net { }\n"),

        // ---- GG0031: an argument given twice
        Error("DuplicateKernel", "GG0031",
            "Conv2D: Kernel is given both as a constructor argument and as a named argument",
            ImageInput + " [Conv2D(6, 5, [|Kernel = 5|])] [Dense(3)]\npublic partial class Net { }\n"),

        // ---- GG0040–GG0044: residual blocks
        Error("ShortcutOutsideBlock", "GG0040",
            "[Shortcut] has no open [Residual] block to start a shortcut path in; open one with [Residual] before it",
            ImageInput + " [Conv2D(2, 3)] [[|Shortcut|]] [Dense(3)]\npublic partial class Net { }\n"),
        Error("EndResidualOutsideBlock", "GG0040",
            "[EndResidual] has no open [Residual] block to close; open one with [Residual] before it",
            ImageInput + " [Conv2D(2, 3)] [[|EndResidual|]] [Dense(3)]\npublic partial class Net { }\n"),
        Error("EmptyMainPath", "GG0041",
            "add1 [EndResidual] has no layers between [Residual] and [EndResidual]; a residual block adds a main path to its shortcut, so put the block's layers after [Residual]",
            ImageInput + " [Conv2D(2, 3)] [Residual] [[|EndResidual|]] [Dense(3)]\npublic partial class Net { }\n"),
        Error("EmptyMainPathBeforeShortcut", "GG0041",
            "The block has no layers between [Residual] and [Shortcut]; a residual block adds a main path to its shortcut, so put the block's layers after [Residual]",
            ImageInput + " [Conv2D(2, 3)] [Residual] [[|Shortcut|]] [Conv2D(2, 1)] [EndResidual] [Dense(3)]\npublic partial class Net { }\n"),
        Error("IdentityShortcutShapeMismatch", "GG0042",
            "add1 [EndResidual] adds the main path's output 4x3x3 (from conv2 [Conv2D]) to the shortcut's 2x6x6 (from conv1 [Conv2D]), but the shapes differ; the shortcut is the identity, so give the block a projection: [Shortcut] [Conv2D(4, 1, Stride = 2)] before [EndResidual]",
            ImageInput + " [Conv2D(2, 3)] [Residual] [Conv2D(4, 2, Stride = 2)] [[|EndResidual|]] [Dense(3)]\npublic partial class Net { }\n"),
        Error("ProjectionShapeMismatch", "GG0042",
            "add1 [EndResidual] adds the main path's output 4x6x6 (from conv2 [Conv2D]) to the shortcut's 3x6x6 (from conv3 [Conv2D]), but the shapes differ",
            ImageInput + " [Conv2D(2, 3)] [Residual] [Conv2D(4, 3, Padding = 1)] [Shortcut] [Conv2D(3, 1)] [[|EndResidual|]] [Dense(3)]\npublic partial class Net { }\n"),
        Error("DenseIdentityShapeMismatch", "GG0042",
            "add1 [EndResidual] adds the main path's output 5 (from dense1 [Dense]) to the shortcut's 4 (from the input), but the shapes differ; the shortcut is the identity, so give the block a projection: [Shortcut] [Dense(5)] before [EndResidual]",
            "[Network(Features = 4)] [Residual] [Dense(5)] [[|EndResidual|]] [Dense(3)]\npublic partial class Net { }\n"),
        Error("UnclosedBlock", "GG0043",
            "This [Residual] block is never closed; end it with [EndResidual] after its last layer",
            ImageInput + " [Conv2D(2, 3)] [[|Residual|]] [Conv2D(2, 3, Padding = 1)] [Dense(3)]\npublic partial class Net { }\n"),
        Error("DuplicateShortcut", "GG0044",
            "This [Residual] block already has a [Shortcut]; a block has one main path and one shortcut path (open a nested [Residual] for more)",
            ImageInput + " [Conv2D(2, 3)] [Residual] [Conv2D(2, 1)] [Shortcut] [Conv2D(2, 1)] [[|Shortcut|]] [EndResidual] [Dense(3)]\npublic partial class Net { }\n"),

        // ---- GG0040, GG0043, GG0045–GG0047: concatenation blocks
        Error("BranchOutsideBlock", "GG0040",
            "[Branch] has no open [Concat] block to start a branch in; open one with [Concat] before it",
            ImageInput + " [Conv2D(2, 3)] [[|Branch|]] [Dense(3)]\npublic partial class Net { }\n"),
        Error("UnclosedConcat", "GG0043",
            "This [Concat] block is never closed; end it with [EndConcat] after its last layer",
            ImageInput + " [[|Concat|]] [Conv2D(2, 3)] [Branch] [Dense(3)]\npublic partial class Net { }\n"),
        Error("OneBranch", "GG0045",
            "This [Concat] block has one branch; start each further branch with [Branch] (a concatenation of one branch is that branch)",
            ImageInput + " [[|Concat|]] [Conv2D(2, 3)] [EndConcat] [Dense(3)]\npublic partial class Net { }\n"),
        Error("ConcatSizesDiffer", "GG0046",
            "concat1 [EndConcat] concatenates along channels, so its branches must end in the same height and width (or all be flat), but branch 1 ends in 2x6x6 (conv1 [Conv2D]), branch 2 ends in 3x8x8 (the input)",
            "[Network(Channels = 3, Height = 8, Width = 8)] [Concat] [Conv2D(2, 3)] [Branch] [[|EndConcat|]] [Dense(3)]\npublic partial class Net { }\n"),
        Error("ConcatImageAndFlat", "GG0046",
            "concat1 [EndConcat] concatenates along channels, so its branches must end in the same height and width (or all be flat), but branch 1 ends in 4 (dense1 [Dense]), branch 2 ends in 1x8x8 (the input)",
            ImageInput + " [Concat] [Dense(4)] [Branch] [[|EndConcat|]] [Dense(3)]\npublic partial class Net { }\n"),
        Error("EndResidualInsideConcat", "GG0047",
            "[EndResidual] belongs to a [Residual] block, but the innermost open block is a [Concat]; close that one with [EndConcat] first",
            ImageInput + " [Residual] [Conv2D(1, 3, Padding = 1)] [Concat] [ReLU] [Branch] [[|EndResidual|]] [EndConcat] [Dense(3)]\npublic partial class Net { }\n"),

        // ---- GG0050, GG0051 and the per-axis forms of GG0010–GG0014: grouped and rectangular convolutions
        Error("GroupsNotDividingInputChannels", "GG0050",
            "conv1 [Conv2D]: Groups = 4 must divide both its input channels (6) and Filters (8), so that every group reads as many channels and writes as many filters as the others",
            "[Network(Channels = 6, Height = 8, Width = 8)] [Conv2D(8, 3, [|Groups = 4|])] [Dense(3)]\npublic partial class Net { }\n"),
        Error("GroupsNotDividingFilters", "GG0050",
            "conv2 [Conv2D]: Groups = 4 must divide both its input channels (4) and Filters (6), so that every group reads as many channels and writes as many filters as the others",
            ImageInput + " [Conv2D(4, 3)] [ReLU] [Conv2D(6, 3, [|Groups = 4|])] [Dense(3)]\npublic partial class Net { }\n"),
        Error("ZeroGroups", "GG0012", "conv1 [Conv2D]: Groups = 0 must be positive",
            ImageInput + " [Conv2D(2, 3, [|Groups = 0|])] [Dense(3)]\npublic partial class Net { }\n"),
        Error("KernelAndKernelWidth", "GG0051",
            "conv1 [Conv2D]: Kernel and KernelWidth both set the kernel; use Kernel alone for a square kernel, or KernelHeight and KernelWidth for a rectangular one",
            ImageInput + " [Conv2D(2, 3, [|KernelWidth = 1|])] [Dense(3)]\npublic partial class Net { }\n"),
        Error("StrideAndStrideHeight", "GG0051",
            "conv1 [Conv2D]: Stride and StrideHeight both set the stride; use Stride alone for a square stride, or StrideHeight and StrideWidth for a rectangular one",
            ImageInput + " [Conv2D(2, 3, Stride = 2, [|StrideHeight = 1|])] [Dense(3)]\npublic partial class Net { }\n"),
        Error("PaddingAndPaddingWidth", "GG0051",
            "conv1 [Conv2D]: Padding and PaddingHeight both set the padding; use Padding alone for a square padding, or PaddingHeight and PaddingWidth for a rectangular one",
            ImageInput + " [Conv2D(2, 3, Padding = 1, [|PaddingHeight = 1|], PaddingWidth = 0)] [Dense(3)]\npublic partial class Net { }\n"),
        Error("KernelHeightWithoutWidth", "GG0014",
            "conv1 [Conv2D] needs both KernelHeight and KernelWidth for a rectangular kernel, e.g. [Conv2D(2, KernelHeight = 3, KernelWidth = 1)]",
            ImageInput + " [[|Conv2D(2, KernelHeight = 3)|]] [Dense(3)]\npublic partial class Net { }\n"),
        Error("RectangularKernelTallerThanInput", "GG0010",
            "conv1 [Conv2D] has a 5x3 window but its input is 1x4x8 (padded to 4x10); the window must fit inside the input",
            "[Network(Channels = 1, Height = 4, Width = 8)] [Conv2D(2, [|KernelHeight = 5|], KernelWidth = 3, PaddingWidth = 1)] [Dense(3)]\npublic partial class Net { }\n"),
        Error("SamePaddingEvenKernelWidth", "GG0011",
            "conv1 [Conv2D]: Padding = Same needs an odd kernel (it pads (Kernel - 1) / 2 on every side), but KernelWidth = 2; use an odd kernel or an explicit Padding",
            ImageInput + " [Conv2D(2, KernelHeight = 3, KernelWidth = 2, [|Padding = Conv2DAttribute.Same|])] [Dense(3)]\npublic partial class Net { }\n"),
        // Found by the fuzzer: a square "same" padding against an even kernel on both axes was reported twice at one place.
        Error("SamePaddingEvenKernelBothAxes", "GG0011",
            "conv1 [Conv2D]: Padding = Same needs an odd kernel (it pads (Kernel - 1) / 2 on every side), but KernelHeight = 4; use an odd kernel or an explicit Padding",
            ImageInput + " [Conv2D(2, KernelHeight = 4, KernelWidth = 2, [|Padding = Conv2DAttribute.Same|])] [Dense(3)]\npublic partial class Net { }\n"),
        Error("PaddingWidthNotSmallerThanKernelWidth", "GG0011",
            "conv1 [Conv2D]: PaddingWidth = 1 must be smaller than KernelWidth (1); wider padding only adds outputs that see nothing but zeros",
            ImageInput + " [Conv2D(2, KernelHeight = 3, KernelWidth = 1, [|PaddingWidth = 1|])] [Dense(3)]\npublic partial class Net { }\n"),
        Error("StrideWidthZero", "GG0011",
            "conv1 [Conv2D]: StrideWidth = 0 must be at least 1",
            ImageInput + " [Conv2D(2, 3, StrideHeight = 2, [|StrideWidth = 0|])] [Dense(3)]\npublic partial class Net { }\n"),
    };

    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in Cases) data.Add(c.Name);
        return data;
    }

    private static DiagnosticCase Case(string name) => Cases.Single(c => c.Name == name);

    /// <summary>Runs a case: the sources without markers, the marked span and the file it is in.</summary>
    internal static (GeneratorRun Run, string Path, TextSpan Span) RunCase(DiagnosticCase c)
    {
        var parsed = c.Sources.Select(Markup.Parse).ToArray();
        var marked = parsed.Select((m, i) => (m, i)).Where(x => x.m.Span is not null).ToList();
        Assert.True(marked.Count == 1, $"{c.Name}: exactly one source must carry a [|…|] marker");
        var files = parsed.Select((m, i) => ($"/src/Source{i}.cs", m.Text)).ToArray();
        var run = GeneratorHarness.Run(GeneratorHarness.CreateCompilation(files));
        return (run, files[marked[0].i].Item1, marked[0].m.Span!.Value);
    }

    private static string Normalize(string message, bool ignoreDigitGrouping) =>
        ignoreDigitGrouping ? Regex.Replace(message, @"(?<=\d),(?=\d{3})", "") : message;

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Reports_the_diagnostic_with_its_message_and_span(string name)
    {
        var c = Case(name);
        var (run, path, span) = RunCase(c);
        Assert.True(run.Crashes.Count == 0, string.Join("\n", run.Crashes));

        var matching = run.GraphGenDiagnostics.Where(d => d.Id == c.Id).ToList();
        Assert.True(matching.Count == 1, $"expected one {c.Id}, got {matching.Count}:\n{run.Describe()}");
        var d = matching[0];
        Assert.Equal(c.Severity, d.Severity);
        Assert.Equal(c.Severity, d.Descriptor.DefaultSeverity);
        Assert.Equal(
            Normalize(c.Message, c.IgnoreDigitGrouping),
            Normalize(d.GetMessage(CultureInfo.InvariantCulture), c.IgnoreDigitGrouping));

        var lineSpan = d.Location.GetLineSpan();
        Assert.Equal(path, lineSpan.Path);
        string text = Markup.Parse(c.Sources[int.Parse(path["/src/Source".Length..^3], CultureInfo.InvariantCulture)]).Text;
        Assert.True(span == d.Location.SourceSpan,
            $"expected span {span} '{text.Substring(span.Start, span.Length)}', got {d.Location.SourceSpan} " +
            $"'{(d.Location.SourceSpan.End <= text.Length ? text.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length) : "?")}'");
        // The line span agrees with the span (an IDE uses one, the command line the other).
        var lines = SourceText.From(text).Lines;
        Assert.Equal(lines.GetLinePositionSpan(span), lineSpan.Span);
    }

    /// <summary>A newcomer sees one clear message: for an error, exactly one GG error and nothing
    /// else from GraphGen; for a warning, just that warning, and the network is still generated and
    /// compiles. Either way the compilation has no other errors than those the mistake itself is (C#).</summary>
    [Theory]
    [MemberData(nameof(CaseNames))]
    public void A_newcomer_sees_one_clear_message(string name)
    {
        var c = Case(name);
        var (run, _, _) = RunCase(c);
        var gg = run.GraphGenDiagnostics;
        Assert.True(gg.Count == 1 && gg[0].Id == c.Id, $"expected only {c.Id}, got:\n{run.Describe()}");

        var allowed = c.CompilerErrors ?? Array.Empty<string>();
        var unexpected = run.CompilerErrors.Where(e => !allowed.Contains(e.Id)).ToList();
        Assert.True(unexpected.Count == 0, $"unexpected compiler errors:\n{string.Join("\n", unexpected)}\n{run.Describe()}");
        foreach (string id in allowed) Assert.Contains(run.CompilerErrors, e => e.Id == id);

        if (c.Severity == DiagnosticSeverity.Error)
        {
            // Nothing, or (when the declaration itself is sound) the stub whose members throw.
            Assert.All(run.GeneratedSources, s => Assert.Contains("GraphGen could not compile", s.SourceText.ToString()));
        }
        else if (c.Id != "GG0008")
        {
            Assert.Single(run.GeneratedSources);
            var warnings = run.OutputDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
            Assert.True(warnings.Count == 0, string.Join("\n", warnings));
        }
    }

    /// <summary>A broken network still has its members (a stub that throws), so code that uses it
    /// compiles: the newcomer sees the GG error alone, not "no constructor", "no TrainStep"…</summary>
    [Fact]
    public void Code_using_a_broken_network_gets_only_the_GraphGen_error()
    {
        var run = GeneratorHarness.Run(Header + """
            [Network(Channels = 1, Height = 4, Width = 4)] [Conv2D(6, Kernel = 5)] [Dense(10)]
            public partial class Net { }

            public static class Use
            {
                public static double Go(float[] x, int[] labels)
                {
                    using var net = new Net(seed: 1);
                    var logits = new float[net.Classes];
                    net.Infer(x, logits);
                    return net.TrainStep(x, labels, 0.1f).LossSum + net.Summary().Length;
                }
            }
            """);
        Assert.Equal(new[] { "GG0010" }, run.GraphGenDiagnostics.Select(d => d.Id));
        Assert.DoesNotContain(run.CompilerErrors, e => e.Id != "GG0010");
        var stub = Assert.Single(run.GeneratedSources).SourceText.ToString();
        Assert.Contains("was not generated because of error GG0010", stub);
    }

    /// <summary>GraphGen's diagnostics are located in the compilation's own syntax trees, which is what
    /// lets the compiler apply #pragma warning disable and [SuppressMessage] to them. (The test project
    /// itself compiles a network whose GG0022 is disabled by #pragma with warnings as errors: see
    /// Networks.cs, SquashedOutput.)</summary>
    [Fact]
    public void Diagnostics_are_located_in_the_compilations_syntax_trees()
    {
        var run = GeneratorHarness.Run(Header + """
            [Network(Features = 4)] [Dense(3)] [Sigmoid]
            public partial class Net { }
            """);
        var reported = run.GraphGenDiagnostics.Single(d => d.Id == "GG0022");
        Assert.NotNull(reported.Location.SourceTree);
        Assert.Contains(reported.Location.SourceTree, run.OutputCompilation.SyntaxTrees);
    }

    [Fact]
    public void Every_descriptor_has_a_case()
    {
        var descriptors = typeof(DiagnosticDescriptors)
            .GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
            .ToList();
        Assert.True(descriptors.Count >= 20, "reflection found too few descriptors");
        // An ID may have several descriptors, one wording per mistake; they share title, severity and category.
        foreach (var same in descriptors.GroupBy(d => d.Id))
            Assert.Single(same.Select(d => (d.Title.ToString(), d.DefaultSeverity, d.Category)).Distinct());
        // Every descriptor's wording is produced by some case (its format with any text in the holes).
        var missing = descriptors.Where(d =>
        {
            var pattern = new Regex("^" + Regex.Replace(
                Regex.Escape(d.MessageFormat.ToString()), @"\\\{\d+}", ".*") + "$", RegexOptions.Singleline);
            return !Cases.Any(c => c.Id == d.Id && pattern.IsMatch(c.Message));
        }).Select(d => $"{d.Id} \"{d.MessageFormat}\"").ToList();
        Assert.True(missing.Count == 0, "descriptors without a diagnostics test case: " + string.Join(", ", missing));
        foreach (var c in Cases)
        {
            var d = descriptors.FirstOrDefault(x => x.Id == c.Id);
            Assert.True(d is not null, $"{c.Name} expects {c.Id}, which no descriptor has");
            Assert.Equal(c.Severity, d!.DefaultSeverity);
        }
    }

    [Fact]
    public void Every_descriptor_is_in_the_release_tracking_files()
    {
        string dir = System.IO.Path.Combine(BaselineFiles.RepositoryRoot(), "generator");
        string tracked = System.IO.File.ReadAllText(System.IO.Path.Combine(dir, "AnalyzerReleases.Shipped.md"))
            + System.IO.File.ReadAllText(System.IO.Path.Combine(dir, "AnalyzerReleases.Unshipped.md"));
        foreach (var f in typeof(DiagnosticDescriptors).GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
                     .Where(f => f.FieldType == typeof(DiagnosticDescriptor)))
        {
            var d = (DiagnosticDescriptor)f.GetValue(null)!;
            string row = $@"^\s*{d.Id}\s*\|\s*{Regex.Escape(d.Category)}\s*\|\s*{d.DefaultSeverity}\s*\|";
            Assert.True(Regex.IsMatch(tracked, row, RegexOptions.Multiline), $"{d.Id} ({d.Category}, {d.DefaultSeverity}) is not in AnalyzerReleases.*.md");
        }
    }

    // ---------------------------------------------------------------- beyond the descriptors

    [Fact]
    public void Layers_without_network_warn_once_per_class()
    {
        var run = GeneratorHarness.Run(Header +
            "[Conv2D(6, Kernel = 5)] [Conv2D(6, Kernel = 5)] [BatchNorm] [ReLU] [Tanh] [Sigmoid] [MaxPool2D(2)] [AvgPool2D(2)] [Dense(10)] [Dense(3)]\n" +
            "public partial class A { }\n\n[Dense(3)]\npublic partial class B { }\n\npublic partial class C { }\n");
        Assert.Empty(run.Crashes);
        var gg = run.GraphGenDiagnostics;
        Assert.Equal(new[] { "GG0008", "GG0008" }, gg.Select(d => d.Id));
        Assert.Contains("'A'", gg[0].GetMessage(CultureInfo.InvariantCulture));
        Assert.Contains("'B'", gg[1].GetMessage(CultureInfo.InvariantCulture));
        Assert.Empty(run.NetworkSources);
        Assert.Empty(run.CompilerErrors);
    }

    [Fact]
    public void A_CSharp_error_in_an_attribute_argument_is_left_to_the_compiler()
    {
        var run = GeneratorHarness.Run(Header +
            ImageInput + " [Conv2D(\"six\", Kernel = 3)] [Dense(3)]\npublic partial class Net { }\n");
        Assert.True(run.Crashes.Count == 0, string.Join("\n", run.Crashes));
        Assert.Empty(run.GraphGenDiagnostics);
        Assert.Empty(run.NetworkSources);
        Assert.NotEmpty(run.CompilerErrors);
        Assert.All(run.CompilerErrors, e => Assert.Equal("CS1503", e.Id));
    }

    [Theory]
    [InlineData("[Network(Features = \"x\")] [Dense(3)]")]
    [InlineData("[Network(Features = 4)] [Dense(3.5)]")]
    [InlineData("[Network(Features = 4)] [Dense(3)] [BatchNorm(Epsilon = \"small\")]")]
    [InlineData("[Network(Features = 4)] [Dense(3)] [Dense(Units = 3)]")]
    [InlineData("[Network(Features = 4)] [Dense(3)] [NoSuchLayer(3)]")]
    [InlineData("[Network(Features = 4)] [Dense(3, 4)]")]
    [InlineData("[Network(Features = 4)] [Dense()]")]
    [InlineData("[Network(Features = 4)] [Dense(int.MaxValue + 1)]")]
    public void Other_CSharp_errors_in_attributes_do_not_crash_the_generator(string attributes)
    {
        var run = GeneratorHarness.Run(Header + attributes + "\npublic partial class Net { }\n");
        Assert.True(run.Crashes.Count == 0, string.Join("\n", run.Crashes));
        Assert.NotEmpty(run.CompilerErrors);
        Assert.Empty(run.GraphGenErrors);
    }

    [Fact]
    public void Network_applied_twice_generates_no_second_file()
    {
        var run = GeneratorHarness.Run(Header + "[Network(Features = 4)] [Network(Features = 4)] [Dense(3)]\npublic partial class Net { }\n");
        Assert.True(run.Crashes.Count == 0, string.Join("\n", run.Crashes));
        Assert.True(run.NetworkSources.Length <= 1, run.Describe());
        Assert.Empty(run.GraphGenErrors);
        Assert.Equal(new[] { "CS0579" }, run.CompilerErrors.Select(e => e.Id).Distinct());
    }

    [Fact]
    public void Network_on_two_partial_declarations_generates_no_second_file()
    {
        var run = GeneratorHarness.Run(
            Header + "[Network(Features = 4)] [Dense(3)]\npublic partial class Net { }\n",
            Header + "[Network(Features = 4)]\npublic partial class Net { }\n");
        Assert.True(run.Crashes.Count == 0, string.Join("\n", run.Crashes));
        Assert.True(run.NetworkSources.Length <= 1, run.Describe());
        Assert.Empty(run.GraphGenErrors);
        Assert.Equal(new[] { "CS0579" }, run.CompilerErrors.Select(e => e.Id).Distinct());
    }

    [Fact]
    public void Layers_on_the_other_partial_declaration_than_Network_are_fine()
    {
        var run = GeneratorHarness.Run(
            Header + "[Network(Features = 4)]\npublic partial class Net { }\n",
            Header + "[Dense(8)] [ReLU] [Dense(3)]\npublic partial class Net { }\n");
        Assert.True(run.Crashes.Count == 0, string.Join("\n", run.Crashes));
        Assert.Empty(run.GraphGenDiagnostics);
        Assert.Single(run.GeneratedSources);
    }

    [Fact]
    public void Several_mistakes_in_one_network_are_all_reported()
    {
        // Argument checks that need no shape run on every layer, so one build shows them all.
        var run = GeneratorHarness.Run(Header + ImageInput + " [Conv2D(0, Kernel = 3)] [Conv2D(2)] [Dense(-1)]\npublic partial class Net { }\n");
        Assert.Empty(run.Crashes);
        Assert.Equal(new[] { "GG0012", "GG0014", "GG0012" }, run.GraphGenDiagnostics.Select(d => d.Id));
    }

    /// <summary>The two GG0030 messages are declared with {N0} placeholders; the counts should come
    /// out grouped ("61,505,000,448"), like the GG0007 messages that format their own numbers.</summary>
    [Fact]
    public void TooLarge_formats_its_counts_as_the_descriptor_asks()
    {
        var (run, _, _) = RunCase(Case("TooManyParameters"));
        string message = run.GraphGenDiagnostics.Single().GetMessage(CultureInfo.InvariantCulture);
        Assert.Equal(Case("TooManyParameters").Message, message);
    }

    /// <summary>A message that quotes an argument quotes it as written: the source says
    /// <c>Momentum = 1.5</c> whatever the culture the compiler runs in (here de-DE, where the
    /// current-culture formatting of 1.5 is "1,5").</summary>
    [Fact]
    public void Quoted_argument_values_do_not_depend_on_the_culture()
    {
        var c = Case("BatchNormMomentumAboveOne");
        var compilation = GeneratorHarness.CreateCompilation(c.Sources.Select(s => Markup.Parse(s).Text));
        var run = GeneratorHarness.Run(GeneratorHarness.CreateDriver(), compilation, new CultureInfo("de-DE"));
        Assert.Equal(c.Message, Assert.Single(run.GraphGenDiagnostics).GetMessage(CultureInfo.InvariantCulture));
    }

    /// <summary>Absurd padding makes the convolution's output side overflow int (and its weight count
    /// overflow long), which slips the size checks: the generator must still answer GG0030, not crash.</summary>
    [Theory]
    [InlineData(5)]
    [InlineData(9)]
    public void Overflowing_convolution_geometry_is_reported_as_too_large(int classes)
    {
        var run = GeneratorHarness.Run(Header +
            $"[Network(Channels = 3, Height = 1, Width = 200)] [Conv2D(1, Kernel = 2147483547, Padding = 2147483546)] [Dense({classes})]\npublic partial class Net {{ }}\n");
        Assert.True(run.Crashes.Count == 0, "the generator crashed:\n" + string.Join("\n", run.Crashes));
        Assert.Equal(new[] { "GG0030" }, run.GraphGenDiagnostics.Select(d => d.Id));
        Assert.Empty(run.NetworkSources);
    }
}
