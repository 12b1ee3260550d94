include $(sort $(wildcard $(BR2_EXTERNAL_KASSE_PATH)/package/*/*.mk))
