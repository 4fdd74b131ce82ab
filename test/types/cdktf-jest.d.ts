// Brings cdktf's jest matcher declarations (toHaveResource, ...) into the tests' types.
import 'cdktf/lib/testing/adapters/jest';
