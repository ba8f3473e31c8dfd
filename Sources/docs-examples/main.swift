// docs-examples: every Swift example of the README, the DocC catalog and the `///` comments,
// compiled as a user would write it (Swift 6 mode, complete checking, no warnings), and run.
//
//     swift run docs-examples
//
// Each region between `// snippet: NAME` and `// snippet: end` in this target's files is quoted
// verbatim in a doc; lines between `// snippet: hide` and `// snippet: show` are left out of the
// quote. `Scripts/check-doc-examples` checks that every Swift block of the docs is such a quote.

try threadExample()
try threadLocalExample()
try lockExample()
try sharedStateExample()
try sharedStateWithConditionExample()
try poolExample()
try rendezvousExample()
try queueWorkerPoolExample()
try overviewExample()
try apiDocExamples()
try portingExamples()
try futuresExamples()
try threadsAndTasksExamples()
print("-- done")
