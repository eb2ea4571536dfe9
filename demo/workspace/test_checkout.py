import unittest

import checkout


class ChargeTest(unittest.TestCase):
    def test_positive_amount(self):
        self.assertEqual(checkout.charge(100)["status"], "ok")

    def test_rejects_zero(self):
        with self.assertRaises(ValueError):
            checkout.charge(0)


if __name__ == "__main__":
    unittest.main()
