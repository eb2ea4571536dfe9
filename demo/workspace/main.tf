terraform {
  backend "s3" {
    bucket = "acme-terraform-state-prod"
    key    = "shop/terraform.tfstate"
    region = "eu-west-1"
  }
}

module "legacy_lb" {
  source = "./modules/lb"
}
