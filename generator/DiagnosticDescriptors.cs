using Microsoft.CodeAnalysis;

namespace GraphGen.Generator;

/// <summary>Every diagnostic GraphGen reports, in one place. IDs are stable; each is listed in the
/// README and in AnalyzerReleases.Shipped.md.</summary>
internal static class DiagnosticDescriptors
{
    private const string Usage = "GraphGen.Usage";
    private const string Shape = "GraphGen.Shape";

    private static DiagnosticDescriptor Error(string id, string title, string message, string category) =>
        new(id, title, message, category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static DiagnosticDescriptor Warning(string id, string title, string message, string category) =>
        new(id, title, message, category, DiagnosticSeverity.Warning, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor NotPartial = Error("GG0001", "Network class must be partial",
        "'{0}' has [Network] but is not declared partial; add the 'partial' modifier so GraphGen can add the generated members", Usage);

    public static readonly DiagnosticDescriptor Generic = Error("GG0002", "Network class must not be generic",
        "'{0}' {1}; GraphGen compiles one fixed network per class, so {2}", Usage);

    public static readonly DiagnosticDescriptor ContainingTypeNotPartial = Error("GG0003", "Containing type must be partial",
        "'{0}' is nested in '{1}', which is not partial; make every containing type partial", Usage);

    public static readonly DiagnosticDescriptor UnsupportedTypeKind = Error("GG0004", "Unsupported type kind",
        "'{0}' is {1}; a network must be a non-static, non-abstract class (not a struct, record or interface)", Usage);

    public static readonly DiagnosticDescriptor NoLayers = Error("GG0005", "Network has no layers",
        "'{0}' has no layer attributes; list its layers after [Network], e.g. [Conv2D(6, Kernel = 5)] [Sigmoid] [Dense(10)]", Usage);

    public static readonly DiagnosticDescriptor LayersSplit = Error("GG0006", "Layers split over partial declarations",
        "The layers of '{0}' are spread over several partial declarations, so their order is undefined; put all layer attributes on one declaration", Usage);

    // GG0007: the input shape of [Network]; one ID, one descriptor per mistake.
    public static readonly DiagnosticDescriptor InputShapeConflict = Error("GG0007", "Invalid input shape",
        "[Network] gives both Features and Channels/Height/Width; use Features for a flat input or Channels, Height and Width for an image", Shape);

    public static readonly DiagnosticDescriptor InputShapeMissing = Error("GG0007", "Invalid input shape",
        "[Network] needs an input shape: Channels, Height and Width for images, or Features for flat vectors, e.g. [Network(Channels = 1, Height = 28, Width = 28)]", Shape);

    public static readonly DiagnosticDescriptor InputSideMissing = Error("GG0007", "Invalid input shape",
        "[Network] needs {0} for an image input (Channels, Height and Width are all required)", Shape);

    public static readonly DiagnosticDescriptor InputSizeNotPositive = Error("GG0007", "Invalid input shape",
        "[Network] {0} = {1} must be positive", Shape);

    public static readonly DiagnosticDescriptor InputFeaturesTooLarge = Error("GG0007", "Invalid input shape",
        "[Network] Features = {0} is larger than GraphGen supports ({1} values per sample)", Shape);

    public static readonly DiagnosticDescriptor InputImageTooLarge = Error("GG0007", "Invalid input shape",
        "[Network] input of {0} = {1} values per sample is larger than GraphGen supports ({2})", Shape);

    public static readonly DiagnosticDescriptor LayersWithoutNetwork = Error("GG0008", "Layer attributes without [Network]",
        "'{0}' has layer attributes but no [Network] attribute, so no network is generated and code that uses it as one does not compile; add [Network(...)] with the input shape", Usage);

    // GG0009: what the generated part of the class needs for itself; one descriptor per mistake.
    public static readonly DiagnosticDescriptor PrimaryConstructor = Error("GG0009", "Name used by the generated code",
        "'{0}' has a primary constructor, but GraphGen generates the network's constructors (seed or NetworkOptions); remove the parameter list", Usage);

    public static readonly DiagnosticDescriptor ClassNamedLikeMember = Error("GG0009", "Name used by the generated code",
        "'{0}' is the name of a member that GraphGen generates in the network class (a class cannot contain a member with its own name); rename the class", Usage);

    public static readonly DiagnosticDescriptor UserConstructor = Error("GG0009", "Name used by the generated code",
        "'{0}' is a constructor written in the network class, but GraphGen generates the network's constructors (seed or NetworkOptions) and one of yours would leave the network uninitialized; remove it (a static factory method can add set-up code)", Usage);

    public static readonly DiagnosticDescriptor MemberNamedLikeGenerated = Error("GG0009", "Name used by the generated code",
        "'{0}' is the name of a member that GraphGen generates in '{1}'; rename this member", Usage);

    public static readonly DiagnosticDescriptor WindowTooLarge = Error("GG0010", "Window larger than its input",
        "{0} has a {1} window but its input is {2}{3}; the window must fit inside the input", Shape);

    // GG0011: strides and paddings; one ID, one descriptor per mistake.
    public static readonly DiagnosticDescriptor PoolStrideBelowOne = Error("GG0011", "Invalid stride or padding",
        "{0}: Stride = {1} must be at least 1 (leave it out to use the window size)", Shape);

    public static readonly DiagnosticDescriptor StrideBelowOne = Error("GG0011", "Invalid stride or padding",
        "{0}: {1} = {2} must be at least 1", Shape);

    public static readonly DiagnosticDescriptor SamePaddingEvenKernel = Error("GG0011", "Invalid stride or padding",
        "{0}: {1} = Same needs an odd kernel (it pads (Kernel - 1) / 2 on every side), but {2} = {3}; use an odd kernel or an explicit {1}", Shape);

    public static readonly DiagnosticDescriptor NegativePadding = Error("GG0011", "Invalid stride or padding",
        "{0}: {1} = {2} must not be negative (Conv2DAttribute.Same asks for \"same\" padding)", Shape);

    public static readonly DiagnosticDescriptor PaddingNotBelowKernel = Error("GG0011", "Invalid stride or padding",
        "{0}: {1} = {2} must be smaller than {3}; wider padding only adds outputs that see nothing but zeros", Shape);

    public static readonly DiagnosticDescriptor NonPositiveSize = Error("GG0012", "Size must be positive",
        "{0}: {1} = {2} must be positive", Shape);

    public static readonly DiagnosticDescriptor NeedsImageInput = Error("GG0013", "Layer needs an image input",
        "{0} needs a 4-D (C x H x W) input, but {1}", Shape);

    public static readonly DiagnosticDescriptor FileLocal = Error("GG0015", "Network class must not be file-local",
        "'{0}' is a file-local type; GraphGen adds its members in a generated file, which cannot see a 'file' type, so remove the 'file' modifier (use 'internal' to hide the network from other assemblies)", Usage);

    public static readonly DiagnosticDescriptor MissingArgument = Error("GG0014", "Missing argument",
        "{0} needs {1}, e.g. {2}", Usage);

    public static readonly DiagnosticDescriptor BatchNormFeatureMismatch = Error("GG0020", "BatchNorm feature count mismatch",
        "{0} declares Features = {1}, but its input ({2}, from {3}) has {4} {5}", Shape);

    public static readonly DiagnosticDescriptor ConsecutiveBatchNorms = Warning("GG0021", "Two BatchNorms in a row",
        "{0} directly follows {1}; normalizing an output that is already normalized only adds work", Usage);

    public static readonly DiagnosticDescriptor ActivationBeforeLoss = Warning("GG0022", "Activation before the loss",
        "The network ends in {0}; the softmax cross-entropy expects raw logits, and squashing them slows or stops learning; end with Dense(classes)", Usage);

    public static readonly DiagnosticDescriptor OutputNotFlat = Error("GG0023", "Output is not a flat vector",
        "The network's output is {0} after {1}; the softmax cross-entropy needs a flat vector of class scores, so end with Dense(classes)", Shape);

    public static readonly DiagnosticDescriptor InvalidSlope = Error("GG0026", "Invalid LeakyReLU slope",
        "{0}: Slope = {1} must be at least 0 and less than 1 (the usual value is 0.01); a negative slope is not monotonic and 1 is the identity", Usage);

    public static readonly DiagnosticDescriptor InvalidDropoutRate = Error("GG0027", "Invalid Dropout rate",
        "{0}: Rate = {1} must be at least 0 and less than 1 (the probability that a value is zeroed in training; 0.1 to 0.5 is usual)", Usage);

    public static readonly DiagnosticDescriptor LowBatchNormMomentum = Warning("GG0028", "BatchNorm momentum below 0.5",
        "{0}: Momentum = {1} keeps only that much of the old moving statistics per step (moving = Momentum * moving + (1 - Momentum) * batch, as in MXNet and Keras); PyTorch's momentum is the other weight, so PyTorch's momentum {1} is Momentum = {2} here (the usual value is 0.9)", Usage);

    public static readonly DiagnosticDescriptor InvalidBatchNormEpsilon = Error("GG0024", "Invalid BatchNorm setting",
        "{0}: Epsilon = {1} must be positive and at most 1 (the usual value is 1e-5)", Usage);

    public static readonly DiagnosticDescriptor InvalidBatchNormMomentum = Error("GG0024", "Invalid BatchNorm setting",
        "{0}: Momentum = {1} must be between 0 and 1 (moving = Momentum * moving + (1 - Momentum) * batch; the usual value is 0.9)", Usage);

    public static readonly DiagnosticDescriptor SingleClass = Warning("GG0025", "Output of one class",
        "The network ends with {0} output; a softmax over one class is always 1, so the loss is 0 and nothing trains", Usage);

    public static readonly DiagnosticDescriptor TooLarge = Error("GG0030", "Network too large",
        "{0} makes {1} {2} {3}, more than GraphGen allows ({4}); the program would allocate absurd memory at run time", Shape);

    public static readonly DiagnosticDescriptor ArenaTooLarge = Warning("GG0032", "Arena too large for the default MaxBatch",
        "'{0}' needs an arena (activation memory) of up to {1} floats at the default MaxBatch = {2}, more than one .NET array holds ({3}), so 'new {0}()' would throw; {4}", Shape);

    public static readonly DiagnosticDescriptor DuplicateArgument = Error("GG0031", "Argument given twice",
        "{0}: {1} is given both as a constructor argument and as a named argument", Usage);

    // Convolution geometry. IDs from GG0050 on.

    public static readonly DiagnosticDescriptor GroupsMismatch = Error("GG0050", "Groups must divide the channels",
        "{0}: Groups = {1} must divide both its input channels ({2}) and Filters ({3}), so that every group reads as many channels and writes as many filters as the others", Shape);

    public static readonly DiagnosticDescriptor ConflictingArguments = Error("GG0051", "Square and per-axis arguments mixed",
        "{0}: {1} and {2} both set the {3}; use {1} alone for a square {3}, or {4} for a rectangular one", Usage);

    // Graph structure (blocks). IDs from GG0040 on.

    public static readonly DiagnosticDescriptor MarkerOutsideBlock = Error("GG0040", "Block marker outside a block",
        "[{0}] has no open [{1}] block to {2}; open one with [{1}] before it", Usage);

    public static readonly DiagnosticDescriptor EmptyMainPath = Error("GG0041", "Residual block without a main path",
        "{0} has no layers between [Residual] and {1}; a residual block adds a main path to its shortcut, so put the block's layers after [Residual]", Usage);

    public static readonly DiagnosticDescriptor AddShapeMismatch = Error("GG0042", "Residual shapes differ",
        "{0} adds the main path's output {1} (from {2}) to the shortcut's {3} (from {4}), but the shapes differ{5}", Shape);

    public static readonly DiagnosticDescriptor UnclosedBlock = Error("GG0043", "Block never closed",
        "This [{0}] block is never closed; end it with [End{0}] after its last layer", Usage);

    public static readonly DiagnosticDescriptor DuplicateShortcut = Error("GG0044", "Second [Shortcut] in one block",
        "This [Residual] block already has a [Shortcut]; a block has one main path and one shortcut path (open a nested [Residual] for more)", Usage);

    public static readonly DiagnosticDescriptor TooFewBranches = Error("GG0045", "Concat block with one branch",
        "This [Concat] block has one branch; start each further branch with [Branch] (a concatenation of one branch is that branch)", Usage);

    public static readonly DiagnosticDescriptor ConcatShapeMismatch = Error("GG0046", "Branch shapes cannot be concatenated",
        "{0} concatenates along channels, so its branches must end in the same height and width (or all be flat), but {1}", Shape);

    public static readonly DiagnosticDescriptor BlockMismatch = Error("GG0047", "Block marker in the wrong block",
        "[{0}] belongs to a [{1}] block, but the innermost open block is a [{2}]; close that one with [End{2}] first", Usage);
}
